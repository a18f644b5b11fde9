package dev.gapstream.pipeline;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One input partition's outputs of one kind (its predictions, or its dead letters) on their way to
 * Kafka, sent again until they go, in the order they came. While sends succeed they go at once, many in flight
 * together. Once one fails (the producer gave up after its delivery timeout, or the topic refused
 * the record), it and every output that comes after it wait: the earliest waiting is sent alone,
 * after a delay that doubles from {@value #FIRST_DELAY_MS} ms up to {@value #MAX_DELAY_MS} ms, until
 * it goes; then the rest go together, in order. A timer per output instead sent them in whatever
 * order their delays came to, and after an outage a camera's predictions came out of order.
 *
 * <p>Outputs the producer already held when the first failure came back can still land before the
 * one sent again: Kafka keeps a partition's order only among the records it takes.
 *
 * <p>Not thread-safe: owned by the pipeline's event loop.
 */
final class Outbox {

  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
  static final long FIRST_DELAY_MS = 100;
  static final long MAX_DELAY_MS = 5_000;

  private final Vertx vertx;
  private final Listener listener;
  /**
   * Outputs that failed, and every output since, by arrival; the first is the one to try next. A
   * retry is scheduled or running exactly while it is not empty.
   */
  private final TreeMap<Long, Waiting> waiting = new TreeMap<>();
  private long arrivals;
  /** Attempts handed to the producer and not back yet. */
  private int sending;
  private long delayMs = FIRST_DELAY_MS;

  private record Waiting(Supplier<Future<RecordMetadata>> send, Promise<RecordMetadata> sent) {}

  /** Told when an outbox's outputs start waiting to be sent again, and when none waits any more. */
  interface Listener {
    /** A send failed; it waits, with every output after it, until it goes. */
    void failed(Outbox outbox, Throwable cause);

    /**
     * The output that waited first went, and the rest were handed to the producer: nothing waits
     * now (one of them failing at once fails the outbox again, see {@link #failed}).
     */
    void recovered(Outbox outbox);
  }

  /** {@code listener}: told of each failed send, before it waits, and of the recovery (for readiness). */
  Outbox(Vertx vertx, Listener listener) {
    this.vertx = vertx;
    this.listener = listener;
  }

  /** Sends now, or after the outputs that wait; the future completes once the broker has it. */
  Future<RecordMetadata> send(Supplier<Future<RecordMetadata>> send) {
    Promise<RecordMetadata> sent = Promise.promise();
    long arrival = arrivals++;
    if (waiting.isEmpty()) {
      attempt(arrival, new Waiting(send, sent));
    } else {
      waiting.put(arrival, new Waiting(send, sent));
    }
    return sent.future();
  }

  /** Whether nothing is being sent or waits to be sent again. */
  boolean isIdle() {
    return waiting.isEmpty() && sending == 0;
  }

  private void attempt(long arrival, Waiting output) {
    sending++;
    output.send().get().onComplete(ar -> {
      sending--;
      if (ar.succeeded()) {
        output.sent().complete(ar.result());
        return;
      }
      boolean first = waiting.isEmpty();
      waiting.put(arrival, output);
      if (first) {
        retryLater(ar.cause(), "the partition's later outputs behind it");
      } else {
        listener.failed(this, ar.cause()); // a retry is on its way already
      }
    });
  }

  private void retryLater(Throwable cause, String then) {
    listener.failed(this, cause);
    LOG.warn("Publish failed, sending it again in {} ms, {}: {}", delayMs, then, cause.toString());
    vertx.setTimer(delayMs, id -> retryFirst());
  }

  /** Sends the earliest waiting output alone; once it goes, the rest, in order. */
  private void retryFirst() {
    Map.Entry<Long, Waiting> first = waiting.firstEntry();
    sending++;
    first.getValue().send().get().onComplete(ar -> {
      sending--;
      if (ar.failed()) {
        delayMs = Math.min(MAX_DELAY_MS, delayMs * 2);
        retryLater(ar.cause(), "still first in line");
        return;
      }
      waiting.remove(first.getKey());
      first.getValue().sent().complete(ar.result());
      delayMs = FIRST_DELAY_MS;
      var rest = new ArrayList<>(waiting.entrySet());
      waiting.clear();
      for (Map.Entry<Long, Waiting> next : rest) {
        if (waiting.isEmpty()) {
          attempt(next.getKey(), next.getValue());
        } else {
          waiting.put(next.getKey(), next.getValue()); // one failed at once: the rest wait behind it
        }
      }
      if (waiting.isEmpty()) {
        listener.recovered(this);
      }
    });
  }
}
