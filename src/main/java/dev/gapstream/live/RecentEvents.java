package dev.gapstream.live;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The last few events of one kind, oldest first, replayed to a client when it connects so the page
 * fills at once. Bounded: adding to a full ring drops the oldest. Thread safe (one lock; the ring
 * is tiny).
 */
final class RecentEvents {
  private final int capacity;
  private final ArrayDeque<String> events;

  RecentEvents(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
    this.events = new ArrayDeque<>(capacity);
  }

  synchronized void add(String event) {
    if (events.size() == capacity) {
      events.removeFirst();
    }
    events.addLast(event);
  }

  /** A copy, oldest first. */
  synchronized List<String> snapshot() {
    return List.copyOf(events);
  }
}
