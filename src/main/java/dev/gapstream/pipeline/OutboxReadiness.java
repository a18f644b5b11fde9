package dev.gapstream.pipeline;

import dev.gapstream.http.Health;
import java.util.HashSet;
import java.util.Set;

/**
 * The readiness check {@value #CHECK}: down while any partition's {@link Outbox} (its predictions,
 * or its dead letters) has outputs waiting to be sent again, up once none has. So a topic that keeps
 * refusing writes, or a broker away, shows as not ready for as long as it lasts, whichever topic and
 * partition it is. Set before by whichever send had ended last, it came up between a dead-letter
 * topic's refusals whenever a prediction went out, and between one output partition's failures
 * whenever a send to another succeeded.
 *
 * <p>At-least-once mode only: in exactly-once mode a failed send stops the pipeline, and its {@code
 * running} check says so. Confined to the event loop, like the outboxes ({@link Health} itself may
 * be read from any thread).
 */
final class OutboxReadiness implements Outbox.Listener {

  static final String CHECK = "broker";

  private final Health health;
  /** Outboxes with outputs waiting, by identity. */
  private final Set<Outbox> failing = new HashSet<>();

  OutboxReadiness(Health health) {
    this.health = health;
  }

  @Override
  public void failed(Outbox outbox, Throwable cause) {
    failing.add(outbox);
    health.set(CHECK, false);
  }

  @Override
  public void recovered(Outbox outbox) {
    failing.remove(outbox);
    if (failing.isEmpty()) {
      health.set(CHECK, true);
    }
  }
}
