package dev.gapstream.ingest;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * Tracks one partition's consumed records until each is finished (published or dead-lettered), and
 * says which offset may be committed: the one after the longest finished prefix. Records finish in
 * any order; the commit position only ever moves over records that are all finished, which is what
 * at-least-once delivery needs.
 *
 * <p>It also releases the records' outputs in offset order ({@link #release}), whatever order they
 * were computed in: predictions keep each key's order, and a transaction never holds an output of a
 * record whose offset it cannot commit yet because an earlier record is still being processed.
 *
 * <p>Not thread-safe: owned by the consumer's event loop.
 */
public final class OffsetTracker {

  private final ArrayDeque<Entry> pending = new ArrayDeque<>();
  private final Map<Long, Entry> byOffset = new HashMap<>();
  /** Consumed records whose output was not released yet, oldest first. */
  private final ArrayDeque<Long> unreleased = new ArrayDeque<>();
  private final Map<Long, Output> readyOutputs = new HashMap<>();
  /** The next offset to commit: one past the last record of the finished prefix. */
  private long committable = -1;
  private boolean revoked;

  /** A record's output, and what to do instead once the partition is revoked before it ran. */
  private record Output(Runnable send, Runnable drop) {}

  /** Records that a record was consumed. Offsets must be added in increasing order. */
  public void consumed(long offset) {
    Entry last = pending.peekLast();
    if (last != null && offset <= last.offset) {
      throw new IllegalArgumentException(
          "offset " + offset + " consumed after " + last.offset + ": offsets must increase");
    }
    Entry entry = new Entry(offset);
    pending.addLast(entry);
    byOffset.put(offset, entry);
    unreleased.addLast(offset);
  }

  /**
   * Runs {@code output} (the send of a record's prediction or dead letter) once the outputs of all
   * earlier records of the partition were run, then any later ones this unblocks. An offset this
   * tracker does not hold runs at once.
   */
  public void release(long offset, Runnable output) {
    release(offset, output, () -> {});
  }

  /**
   * As {@link #release(long, Runnable)}; but once the partition is {@linkplain #revoke() revoked},
   * runs {@code drop} instead of an output that has not run yet.
   */
  public void release(long offset, Runnable output, Runnable drop) {
    if (revoked) {
      drop.run();
      return;
    }
    if (!byOffset.containsKey(offset)) {
      output.run();
      return;
    }
    readyOutputs.put(offset, new Output(output, drop));
    while (!unreleased.isEmpty()) {
      Output next = readyOutputs.remove(unreleased.peekFirst());
      if (next == null) {
        return;
      }
      unreleased.pollFirst();
      next.send().run();
    }
  }

  /**
   * The partition went to another consumer, which reads its uncommitted records again: outputs not
   * run yet are dropped (waiting ones now, later ones as they come), so that no record gets a
   * second output from here.
   */
  public void revoke() {
    revoked = true;
    unreleased.clear();
    var waiting = new ArrayList<>(readyOutputs.values());
    readyOutputs.clear();
    waiting.forEach(o -> o.drop().run());
  }

  /** Whether {@link #revoke()} was called. */
  public boolean isRevoked() {
    return revoked;
  }

  /**
   * Records that a record finished. Unknown offsets (e.g. from before a rebalance) are ignored.
   *
   * @return true when this moved the committable position
   */
  public boolean finished(long offset) {
    Entry entry = byOffset.remove(offset);
    if (entry == null) {
      return false;
    }
    entry.done = true;
    boolean moved = false;
    while (!pending.isEmpty() && pending.peekFirst().done) {
      committable = pending.pollFirst().offset + 1;
      moved = true;
    }
    return moved;
  }

  /**
   * The offset to commit (Kafka's convention: the next record to read), or -1 before any record
   * finished.
   */
  public long committablePosition() {
    return committable;
  }

  /** Records consumed and not yet finished. */
  public int pendingCount() {
    return byOffset.size();
  }

  /**
   * Records consumed whose offset cannot be committed yet: the unfinished ones, and the finished
   * ones behind the oldest unfinished one. A restart or a rebalance reads all of them again.
   */
  public int uncommittedCount() {
    return pending.size();
  }

  private static final class Entry {
    final long offset;
    boolean done;

    Entry(long offset) {
      this.offset = offset;
    }
  }
}
