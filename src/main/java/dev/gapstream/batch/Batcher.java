package dev.gapstream.batch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * Groups items of equal shape into batches. A batch is ready when it is full — {@link
 * BatchPolicy#maxSize()} items, or fewer where items of its shape would pass {@link
 * BatchPolicy#maxPixels()} — or its first item has waited {@link BatchPolicy#maxDelayNanos()}; ready
 * batches are taken in the order they became ready, full ones first.
 *
 * <p>The caller takes a batch only when it has somewhere to run it. Until then an open batch keeps
 * filling up to its maximum size, so a busy model naturally gets larger batches (adaptive
 * batching) while an idle one gets each item within the delay.
 *
 * <p>Not thread-safe: one owner thread (in gapstream, the consumer's event loop). Plain Java with an
 * injected clock, so it can be tested and benchmarked alone.
 *
 * @param <K> the shape key (equal keys batch together)
 * @param <T> the item
 */
public final class Batcher<K, T> {

  private final BatchPolicy policy;
  private final ToLongFunction<K> pixelsPerItem;
  private final LongSupplier nanoClock;
  /** Open batches, one per shape, in the order they were opened (the oldest first). */
  private final Map<K, Open<T>> open = new LinkedHashMap<>();
  /**
   * Batches that reached the maximum size, in the order they filled up, stamped with when they
   * did; {@link #takeReady} stamps them again when it takes them.
   */
  private final Deque<Batch<K, T>> full = new ArrayDeque<>();
  private int size;

  /** A batcher whose keys carry no size: batches close at the policy's item count or delay. */
  public Batcher(BatchPolicy policy, LongSupplier nanoClock) {
    this(policy, key -> 0, nanoClock);
  }

  /**
   * @param pixelsPerItem the pixels of one item of a shape, for the policy's {@link
   *     BatchPolicy#maxPixels()}
   */
  public Batcher(BatchPolicy policy, ToLongFunction<K> pixelsPerItem, LongSupplier nanoClock) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.pixelsPerItem = Objects.requireNonNull(pixelsPerItem, "pixelsPerItem");
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
  }

  /**
   * Adds an item to the open batch of its shape, closing that batch when it is full.
   *
   * @throws NullPointerException for a null key or item, before the item joins a batch (a closed
   *     batch's items cannot hold null: its other items would be lost with it)
   */
  public void add(K key, T item) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(item, "item");
    long now = nanoClock.getAsLong();
    Open<T> batch =
        open.computeIfAbsent(key, k -> new Open<>(now, policy.maxSizeFor(pixelsPerItem.applyAsLong(k))));
    batch.items.add(item);
    size++;
    if (batch.items.size() >= batch.capacity) {
      open.remove(key);
      full.add(new Batch<>(key, batch.items, batch.openedAt, now));
    }
  }

  /**
   * Takes the next batch that is ready, in the order they became ready: the batch whose delay ran
   * out or that filled up first, a full one on a tie; {@code null} when none is ready yet. (Full
   * first, always, starved a rare frame size while the model was behind: full batches of the common
   * size never ran out, and a lone frame of another size waited until its batch filled.) A batch
   * whose delay ran out while no slot was free keeps filling, but stays ready from its deadline. A
   * batch's wait runs until it is taken.
   */
  public Batch<K, T> takeReady() {
    long now = nanoClock.getAsLong();
    long delay = policy.maxDelayNanos();
    Batch<K, T> filled = null;
    long filledReady = 0;
    for (Batch<K, T> b : full) { // few: the frames in flight over the batch size
      long ready = readyAt(b.openedAtNanos(), b.closedAtNanos(), delay);
      if (filled == null || ready - filledReady < 0) {
        filled = b;
        filledReady = ready;
      }
    }
    Iterator<Map.Entry<K, Open<T>>> it = open.entrySet().iterator();
    Map.Entry<K, Open<T>> oldest = it.hasNext() ? it.next() : null;
    Batch<K, T> batch = null;
    if (oldest != null) {
      long oldestReady = oldest.getValue().openedAt + delay;
      if (now - oldestReady >= 0 && (filled == null || oldestReady - filledReady < 0)) {
        it.remove();
        batch = new Batch<>(oldest.getKey(), oldest.getValue().items, oldest.getValue().openedAt, now);
      }
    }
    if (batch == null && filled != null) {
      removeFull(filled);
      batch = new Batch<>(filled.key(), filled.items(), filled.openedAtNanos(), now);
    }
    if (batch != null) {
      size -= batch.size();
    }
    return batch;
  }

  /** When a batch that filled at {@code filledAt} became ready: then, or at its deadline if sooner. */
  private static long readyAt(long openedAt, long filledAt, long delay) {
    long deadline = openedAt + delay;
    return filledAt - deadline < 0 ? filledAt : deadline;
  }

  private void removeFull(Batch<K, T> batch) {
    for (Iterator<Batch<K, T>> it = full.iterator(); it.hasNext(); ) {
      if (it.next() == batch) {
        it.remove();
        return;
      }
    }
  }

  /**
   * Clock reading at which the oldest open batch becomes ready by delay; empty when no batch is
   * open. A full batch is ready at once: check {@link #takeReady()} first.
   */
  public OptionalLong nextDeadline() {
    Iterator<Open<T>> it = open.values().iterator();
    return it.hasNext()
        ? OptionalLong.of(it.next().openedAt + policy.maxDelayNanos())
        : OptionalLong.empty();
  }

  /**
   * Closes and returns every batch, full and open, for a shutdown that must finish them; each is
   * stamped as taken now, as {@link #takeReady} stamps it (a full batch's wait did not end when it
   * filled).
   */
  public List<Batch<K, T>> drain() {
    long now = nanoClock.getAsLong();
    List<Batch<K, T>> all = new ArrayList<>(full.size() + open.size());
    full.forEach(b -> all.add(new Batch<>(b.key(), b.items(), b.openedAtNanos(), now)));
    full.clear();
    open.forEach((key, batch) -> all.add(new Batch<>(key, batch.items, batch.openedAt, now)));
    open.clear();
    size = 0;
    return all;
  }

  /** Items held, in open and full batches. */
  public int size() {
    return size;
  }

  public BatchPolicy policy() {
    return policy;
  }

  private static final class Open<T> {
    final long openedAt;
    /** Items that fill this batch. */
    final int capacity;
    final List<T> items;

    Open(long openedAt, int capacity) {
      this.openedAt = openedAt;
      this.capacity = capacity;
      this.items = new ArrayList<>(Math.min(capacity, 64));
    }
  }
}
