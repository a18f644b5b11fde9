package dev.gapstream.live;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Admits at most one frame per interval, so the live view's cost does not grow with the pipeline's
 * throughput. Lock-free and thread safe: inference workers call {@link #tryAcquire(boolean)}
 * concurrently and at most one of them wins each interval.
 */
final class FrameSampler {
  private final long watchedIntervalNanos;
  private final long idleIntervalNanos;
  private final LongSupplier nanoClock;
  private final AtomicLong next;

  /**
   * @param watchedIntervalNanos the interval while someone watches the page
   * @param idleIntervalNanos the interval while no one does: just enough to have recent frames to
   *     show when someone opens the page
   * @param nanoClock a monotonic clock, {@code System::nanoTime} outside tests
   */
  FrameSampler(long watchedIntervalNanos, long idleIntervalNanos, LongSupplier nanoClock) {
    this.watchedIntervalNanos = watchedIntervalNanos;
    this.idleIntervalNanos = idleIntervalNanos;
    this.nanoClock = nanoClock;
    this.next = new AtomicLong(nanoClock.getAsLong());
  }

  /** Whether the caller's frame is the one sampled in this interval. */
  boolean tryAcquire(boolean watched) {
    long now = nanoClock.getAsLong();
    long due = next.get();
    if (now - due < 0) {
      return false;
    }
    return next.compareAndSet(due, now + (watched ? watchedIntervalNanos : idleIntervalNanos));
  }
}
