package dev.gapstream.batch;

import java.util.List;

/**
 * A closed batch: items of one shape, in arrival order.
 *
 * @param key the shape the items share
 * @param items at least one item, at most the policy's maximum
 * @param openedAtNanos clock reading when the first item arrived
 * @param closedAtNanos clock reading when the batch was taken for inference
 * @param <K> the shape key
 * @param <T> the item
 */
public record Batch<K, T>(K key, List<T> items, long openedAtNanos, long closedAtNanos) {

  public Batch {
    items = List.copyOf(items);
  }

  public int size() {
    return items.size();
  }

  /** How long the oldest item waited in the batcher, in nanoseconds. */
  public long waitNanos() {
    return closedAtNanos - openedAtNanos;
  }
}
