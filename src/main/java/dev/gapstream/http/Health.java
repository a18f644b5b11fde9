package dev.gapstream.http;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Named readiness checks set by the pipeline ({@code health.set("model", true)}) and read by {@code
 * /health/ready}: ready when there is at least one check and every check is up. Liveness is
 * separate: it stays up until {@link #setLive(boolean) setLive(false)} reports a fatal state (e.g.
 * a stage thread died) so an orchestrator restarts the process.
 *
 * <p>Thread safe: any thread may set or read; reads see a consistent snapshot per call.
 */
public final class Health {
  private final ConcurrentSkipListMap<String, Boolean> checks = new ConcurrentSkipListMap<>();
  private volatile boolean live = true;
  private final CompletableFuture<Void> down = new CompletableFuture<>();

  /** A health with these checks declared and down, so readiness waits for each of them. */
  public static Health requiring(String... names) {
    Health h = new Health();
    for (String n : names) {
      h.set(n, false);
    }
    return h;
  }

  /** Sets (or declares) a readiness check. */
  public void set(String name, boolean up) {
    checks.put(name, up);
  }

  /** Marks the process live or not; not live means it should be restarted. */
  public void setLive(boolean live) {
    this.live = live;
    if (!live) {
      down.complete(null);
    }
  }

  /** Completes when the process is first marked not live. */
  public CompletionStage<Void> whenDown() {
    return down;
  }

  public boolean isLive() {
    return live;
  }

  /** Ready: at least one check and all of them up. */
  public boolean isReady() {
    Map<String, Boolean> snapshot = checks();
    return !snapshot.isEmpty() && !snapshot.containsValue(Boolean.FALSE);
  }

  /** A sorted snapshot of the checks. */
  public SortedMap<String, Boolean> checks() {
    return new TreeMap<>(checks);
  }
}
