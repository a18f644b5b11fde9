package dev.gapstream.pipeline;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Errors the consumer's polls end with: a frames topic the principal may no longer read, a static
 * member fenced by another with its {@code group.instance.id}, an offset out of range with no reset
 * policy. The Kafka client throws such an error from every poll, and Vert.x polls again at once: the
 * pipeline consumed nothing while it stayed ready, spun a core and wrote a warning per poll.
 *
 * <p>So {@link #failing()} is true from an error until {@link #QUIET_MS} pass without one (the
 * readiness check {@value #CHECK}); the polling thread waits after each error, longer for each in a
 * row up to {@link #MAX_BACKOFF_MS}; and the log has the first error of a run and then one line per
 * {@link #LOG_EVERY_MS} with the count. {@link #record} runs on Vert.x's polling thread, {@link
 * #failing} on the event loop.
 */
final class PollErrors {

  static final String CHECK = "polling";

  /** How long after the last error polling counts as working again: several polls' worth. */
  static final long QUIET_MS = 5_000;

  static final long MAX_BACKOFF_MS = 1_000;
  static final long LOG_EVERY_MS = 30_000;

  private static final Logger LOG = LoggerFactory.getLogger(PollErrors.class);
  private static final long FIRST_BACKOFF_MS = 50;

  private final LongSupplier nanoClock;
  private final Sleeper sleeper;

  private volatile boolean anyError;
  /** The clock's time of the last error, once there was one. */
  private volatile long lastErrorNanos;

  // The polling thread's own.
  private long backoffMs;
  private long loggedNanos;
  private long unlogged;

  /** Waits between polls; a test's records the waits instead. */
  interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  PollErrors() {
    this(System::nanoTime, Thread::sleep);
  }

  PollErrors(LongSupplier nanoClock, Sleeper sleeper) {
    this.nanoClock = nanoClock;
    this.sleeper = sleeper;
  }

  /** One poll's error: logged (or counted toward the next line), then the polling thread waits. */
  void record(Throwable error) {
    long now = nanoClock.getAsLong();
    boolean newRun = !anyError || now - lastErrorNanos >= TimeUnit.MILLISECONDS.toNanos(QUIET_MS);
    lastErrorNanos = now;
    anyError = true;
    if (newRun) {
      backoffMs = FIRST_BACKOFF_MS;
      unlogged = 0;
      loggedNanos = now;
      LOG.warn("Kafka consumer error, polling again after a pause, unready until polls succeed: {}", error.toString());
    } else {
      backoffMs = Math.min(MAX_BACKOFF_MS, 2 * backoffMs);
      unlogged++;
      if (now - loggedNanos >= TimeUnit.MILLISECONDS.toNanos(LOG_EVERY_MS)) {
        LOG.warn("Kafka consumer error, {} more since the last line: {}", unlogged, error.toString());
        unlogged = 0;
        loggedNanos = now;
      }
    }
    try {
      sleeper.sleep(backoffMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // a close interrupting the wait: it polls no more
    }
  }

  /** True while the last error is less than {@link #QUIET_MS} old. */
  boolean failing() {
    return anyError && nanoClock.getAsLong() - lastErrorNanos < TimeUnit.MILLISECONDS.toNanos(QUIET_MS);
  }
}
