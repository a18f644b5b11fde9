package dev.gapstream.pipeline;

import dev.gapstream.ingest.OffsetTracker;
import dev.gapstream.publish.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assigned partitions' offset trackers, and their commits: each partition's offset moves to
 * the end of its longest finished prefix, one commit at a time and at most one per commit interval,
 * later moves coalesced into the next one. (A commit per finished frame is a request to the group
 * coordinator per frame, and Vert.x commits synchronously on the thread that polls.) A revocation
 * and the final commit do not wait for the interval. A failed commit is retried on a timer in
 * at-least-once mode (nothing else may come to trigger it); in exactly-once mode it is fatal,
 * reported through {@code onFatal}.
 *
 * <p>Event-loop confined: owned by {@link PipelineVerticle}, like the consumer it commits for.
 */
final class OffsetCommitter {

  private static final Logger LOG = LoggerFactory.getLogger(OffsetCommitter.class);
  private static final long COMMIT_RETRY_MS = 1_000;

  private final Vertx vertx;
  private final boolean exactlyOnce;
  private final Consumer<String> onFatal;
  private final long intervalNanos;
  private final Map<TopicPartition, OffsetTracker> trackers = new HashMap<>();
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private Delivery delivery;
  private boolean running;
  private boolean again;
  private boolean closed;
  private boolean consumerClosed;
  /** The running (or last) commit's own outcome: it never waits on the commit after it. */
  private Future<Void> current = Future.succeededFuture();
  /** Completed with the commit that follows the running one, for callers that asked meanwhile. */
  private Promise<Void> followUp;
  private long nextCommitAt = System.nanoTime();
  private long timer = -1;

  OffsetCommitter(Vertx vertx, boolean exactlyOnce, Duration interval, Consumer<String> onFatal) {
    this.vertx = vertx;
    this.exactlyOnce = exactlyOnce;
    this.intervalNanos = interval.toNanos();
    this.onFatal = onFatal;
  }

  /** Where commits go; set once the Kafka clients exist, before the first record. */
  void deliverThrough(Delivery delivery) {
    this.delivery = delivery;
  }

  void assigned(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      trackers.put(tp, new OffsetTracker());
      committed.remove(tp);
    }
  }

  /**
   * At-least-once, while Kafka waits in a rebalance: the revoked partitions' offsets finished since
   * their last commit, for the rebalance to commit on the consumer's thread before the partitions
   * move on; and the partitions are forgotten at once, so that no later commit carries them. Their
   * frames still in flight are {@linkplain OffsetTracker#revoke() dropped} as their outputs come up
   * (their next owner reads them again, from the offsets handed over: sent from here too, they
   * would be published twice).
   */
  Map<TopicPartition, OffsetAndMetadata> handOver(Collection<TopicPartition> partitions) {
    Map<TopicPartition, OffsetAndMetadata> finished = new HashMap<>();
    for (TopicPartition tp : partitions) {
      OffsetTracker tracker = trackers.remove(tp);
      Long last = committed.remove(tp);
      if (tracker == null) {
        continue;
      }
      tracker.revoke();
      if (tracker.committablePosition() > (last == null ? -1 : last)) {
        finished.put(tp, new OffsetAndMetadata(tracker.committablePosition(), ""));
      }
    }
    return finished;
  }

  /**
   * Forgets partitions the group gave away without a revocation: nothing of them is committed, and
   * their frames in flight are dropped (their next owner reads them again).
   */
  void forget(Collection<TopicPartition> partitions) {
    handOver(partitions); // what it hands over is not committed
  }

  /** Commits what finished, now, then forgets the partitions. */
  void revoked(Collection<TopicPartition> partitions) {
    commit(true);
    trackers.keySet().removeAll(partitions);
    committed.keySet().removeAll(partitions);
  }

  /** The assigned partitions' {@linkplain OffsetTracker#uncommittedCount() uncommitted records}. */
  int uncommitted() {
    int n = 0;
    for (OffsetTracker tracker : trackers.values()) {
      n += tracker.uncommittedCount();
    }
    return n;
  }

  boolean hasPartitions() {
    return !trackers.isEmpty();
  }

  /** Records a consumed record and returns its partition's tracker. */
  OffsetTracker consumed(ConsumerRecord<byte[], byte[]> record) {
    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
    OffsetTracker tracker = trackers.computeIfAbsent(tp, k -> new OffsetTracker());
    try {
      tracker.consumed(record.offset());
    } catch (IllegalArgumentException rewound) {
      // The partition was reassigned and rewound: start over from the records now coming.
      if (exactlyOnce) {
        // Without a revocation (the log truncated after an unclean leader election, an offset
        // reset): the old tracker's frames in flight would go out in the open transaction with no
        // offset for them, and again, read twice, with one. Their outputs are not sent; the
        // transaction is aborted and the restart reads on from the committed offsets.
        tracker.revoke();
        onFatal.accept("partition " + record.topic() + "-" + record.partition() + " went back to offset " + record.offset() + " without a revocation (its log truncated,"
            + " or its position reset): frames read twice cannot be committed once in the open transaction");
      }
      tracker = new OffsetTracker();
      tracker.consumed(record.offset());
      trackers.put(tp, tracker);
      committed.remove(tp);
    }
    return tracker;
  }

  /**
   * Commits every partition whose finished prefix moved: now, or when the commit interval since
   * the last one has passed (the returned future is then already complete); one commit at a time,
   * coalesced.
   */
  Future<Void> commit() {
    return commit(false);
  }

  private Future<Void> commit(boolean now) {
    if (consumerClosed) {
      return Future.succeededFuture(); // nothing can commit now, and a commit would restart the stream
    }
    if (running) {
      again = true;
      if (followUp == null) {
        followUp = Promise.promise();
      }
      return followUp.future();
    }
    if (moved().isEmpty()) {
      return Future.succeededFuture();
    }
    long wait = nextCommitAt - System.nanoTime();
    if (!now && wait > 0) {
      if (timer < 0) {
        timer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)), id -> {
          timer = -1;
          commit();
        });
      }
      return Future.succeededFuture();
    }
    return startCommit();
  }

  /**
   * Exactly-once, while Kafka waits in a rebalance: the revoked partitions' outputs not sent yet are
   * dropped (their next owner reads those records again), and what was sent commits now with its
   * offsets — after a commit already running, and even where no offset has moved yet, since the
   * open transaction may hold sends not yet acknowledged. Then the partitions are forgotten.
   */
  Future<Void> revokeNow(Collection<TopicPartition> partitions) {
    Map<TopicPartition, OffsetTracker> revoking = new HashMap<>();
    for (TopicPartition tp : partitions) {
      OffsetTracker tracker = trackers.get(tp);
      if (tracker != null) {
        tracker.revoke();
        revoking.put(tp, tracker);
      }
    }
    return idle()
        .compose(v -> startCommit())
        .compose(v -> idle())
        .andThen(ar -> revoking.forEach((tp, tracker) -> {
          if (trackers.remove(tp, tracker)) {
            committed.remove(tp);
          }
        }));
  }

  /** Completes once no commit is running (one that ends may start another: waits for that too). */
  private Future<Void> idle() {
    Promise<Void> idle = Promise.promise();
    whenIdle(idle);
    return idle.future();
  }

  /**
   * Completes {@code idle} when no commit runs, looking again as each one ends: one promise, not a
   * future composed on each commit's (those chained a link a commit while commits ran back to
   * back, and completing 2,000 of them overflowed the stack).
   */
  private void whenIdle(Promise<Void> idle) {
    if (running) {
      current.onComplete(ar -> whenIdle(idle));
    } else {
      idle.complete();
    }
  }

  private Future<Void> startCommit() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    running = true;
    nextCommitAt = System.nanoTime() + intervalNanos;
    Map<TopicPartition, OffsetAndMetadata> taken = new HashMap<>();
    Map<TopicPartition, OffsetTracker> owners = new HashMap<>();
    Promise<Void> done = Promise.promise();
    current = done.future();
    delivery
        .commit(() -> {
          taken.putAll(moved());
          taken.keySet().forEach(tp -> owners.put(tp, trackers.get(tp)));
          return taken;
        })
        .onSuccess(ok -> taken.forEach((tp, o) -> {
          // Not one forgotten meanwhile, nor assigned again since (a new tracker, whose records
          // start where the group's commit is, not where this one was)
          if (trackers.get(tp) == owners.get(tp)) {
            committed.merge(tp, o.getOffset(), Math::max);
          }
        }))
        .onFailure(this::failed)
        .onComplete(ar -> {
          running = false;
          Promise<Void> asked = followUp;
          followUp = null;
          if (again) {
            // Started, not returned: returned, each commit's future waited on the next one's,
            // a chain as long as commits ran back to back (delivery.commit.interval.ms=0 under
            // load, or commits slower than the interval), which grew without bound, and whose
            // end, completing every link in one call, overflowed the stack past ~2,000.
            again = false;
            Future<Void> next = commit(closed);
            if (asked != null) {
              next.onComplete(asked);
            }
          } else if (asked != null) {
            asked.complete();
          }
          // After the follow-up started: a waiter woken now sees it running and waits for it.
          done.handle(ar);
        });
    return current;
  }

  /** Waits for a running commit, commits whatever is left, and stops retrying. */
  Future<Void> commitFinal() {
    closed = true;
    return idle().compose(v -> commit(true));
  }

  /**
   * The consumer is closing: nothing is committed from now on. A frame that finished after the final
   * commit (a drain that timed out), or the close's own revocation, committed then, and Vert.x
   * started the closed consumer stream again for it, on a polling thread no one stopped.
   */
  void consumerClosing() {
    consumerClosed = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void failed(Throwable e) {
    if (exactlyOnce) {
      onFatal.accept("a transaction failed to commit: " + e);
      return;
    }
    if (e instanceof RebalanceInProgressException) {
      // Refused while a cooperative rebalance (or the consumer protocol's) runs, which the commit
      // interval meets at every one: the next commit carries the offsets.
      LOG.debug("Offset commit refused during a rebalance (will retry): {}", e.toString());
    } else {
      LOG.warn("Offset commit failed (will retry): {}", e.toString());
    }
    // Nothing else may come to commit again (the stream may have ended): retry on a timer.
    if (!closed) {
      vertx.setTimer(COMMIT_RETRY_MS, id -> commit());
    }
  }

  private Map<TopicPartition, OffsetAndMetadata> moved() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    trackers.forEach((tp, tracker) -> {
      long position = tracker.committablePosition();
      if (position > committed.getOrDefault(tp, -1L)) {
        offsets.put(tp, new OffsetAndMetadata(position, ""));
      }
    });
    return offsets;
  }
}
