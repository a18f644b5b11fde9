package dev.gapstream.pipeline;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's Kafka consumer: a plain one, with a few things done on the polling thread, where
 * Vert.x leaves no room for them.
 *
 * <p>It runs a hook inside Kafka's rebalance, before the listener it was subscribed with. Vert.x's
 * listener only hands the event to the event loop, where it runs after Kafka has moved the
 * partitions on; the hook can make the rebalance wait (as a plain consumer's {@code commitSync} in
 * {@code onPartitionsRevoked} would).
 *
 * <p>And it can {@linkplain #hold hold} every assigned partition: paused in Kafka's sense, so that
 * polls go on, keeping the consumer in its group, but return no records. Pausing the Vert.x stream
 * instead stops the polls themselves, and a consumer that does not poll for {@code
 * max.poll.interval.ms} is put out of its group: a slow model or an output outage that kept the
 * pipeline at its in-flight bound for five minutes cost a rebalance. Pausing is applied before each
 * poll and to partitions assigned during one, so it never meets a partition the consumer no longer
 * has.
 *
 * <p>And it keeps the group metadata (generation, member id) of its latest membership for
 * exactly-once commits, read there on the polling thread: the consumer's own {@code groupMetadata()}
 * cannot be called from another thread while Vert.x polls.
 *
 * <p>And its offset commits (at-least-once: Vert.x runs them there) {@linkplain #commitSync(Map)
 * carry only partitions it holds}, and none lost in the latest poll.
 */
final class PipelineConsumer extends KafkaConsumer<byte[], byte[]> {

  /** The longest poll while held: how soon records flow again after {@code hold(false)}. */
  static final Duration HELD_POLL = Duration.ofMillis(20);

  private static final Logger LOG = LoggerFactory.getLogger(PipelineConsumer.class);

  private final ConsumerRebalanceListener hook;
  private volatile boolean holding;
  private volatile ConsumerGroupMetadata membership;
  /**
   * Polling thread only: per partition held, the highest offset committed for it since it was
   * assigned (an eager rebalance revokes a partition and assigns it straight back: that counts as
   * held throughout).
   */
  private final Map<TopicPartition, Long> committedHere = new HashMap<>();
  /**
   * Polling thread only: the partitions lost in the latest poll. A commit the event loop queued
   * before it heard of that rebalance runs before the next poll, and carries none of them: one lost
   * and assigned straight back in the same poll is held again, but what its owner in between
   * committed is unknown here. (A revoked one needs no such fence: its hand-over's commit is
   * {@linkplain #committedHere known}, and a stale offset is below it.)
   */
  private final Set<TopicPartition> lostInLastPoll = new HashSet<>();
  /** Polling thread only: the error the latest poll ended with, or null. */
  private RuntimeException pollError;

  @SuppressWarnings("removal") // group-only metadata until the first join: nothing is committed before it
  PipelineConsumer(Map<String, Object> config, ConsumerRebalanceListener hook) {
    super(config);
    this.hook = hook;
    this.membership = new ConsumerGroupMetadata(String.valueOf(config.get(ConsumerConfig.GROUP_ID_CONFIG)));
  }

  /**
   * From any thread: the group metadata of this consumer's latest membership, for {@code
   * sendOffsetsToTransaction}. The broker refuses offsets committed with it once the group has
   * moved on to a later generation, which fences a replica that was put out of the group while it
   * stood still (a long GC pause, a stopped process) and wakes with a transaction open. After
   * losing its membership the consumer's own metadata says "no generation", which the broker
   * would not check; this keeps the last one it had instead.
   */
  ConsumerGroupMetadata membership() {
    return membership;
  }

  /** On the polling thread. */
  private void noteMembership() {
    ConsumerGroupMetadata now = groupMetadata();
    if (now.generationId() >= 0 && !now.memberId().isEmpty()) {
      membership = now;
    }
  }

  /**
   * From any thread: while {@code true}, polls return no records and every partition's fetch
   * position stays where it is; takes effect at the next poll.
   */
  void hold(boolean hold) {
    holding = hold;
  }

  @Override
  public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
    pollError = null;
    try {
      return pollHeldOrNot(timeout);
    } catch (RuntimeException e) {
      pollError = e;
      throw e;
    }
  }

  /**
   * Polling thread only: whether {@code error} is what the latest poll ended with. Vert.x hands the
   * stream's exception handler the errors of every task it runs on this consumer, a commit's too,
   * which also fails that task's own future.
   */
  boolean endedLatestPoll(Throwable error) {
    return error != null && error == pollError;
  }

  private ConsumerRecords<byte[], byte[]> pollHeldOrNot(Duration timeout) {
    lostInLastPoll.clear();
    if (holding) {
      pause(assignment());
      return polled(super.poll(timeout.compareTo(HELD_POLL) < 0 ? timeout : HELD_POLL));
    }
    Set<TopicPartition> paused = paused();
    if (!paused.isEmpty()) {
      resume(paused);
    }
    return polled(super.poll(timeout));
  }

  private ConsumerRecords<byte[], byte[]> polled(ConsumerRecords<byte[], byte[]> records) {
    noteMembership();
    return records;
  }

  /**
   * On the polling thread (where Vert.x runs its commits): commits the offsets of partitions this
   * consumer holds now and did not lose in the latest poll, and of those only the ones above what
   * it committed for them already.
   *
   * <p>Vert.x queues a commit behind the poll running at the time, and hands a revocation to the
   * event loop only after Kafka has finished the rebalance: a commit the event loop sent before it
   * heard of one runs after it, under the new generation, which the broker accepts for any
   * partition. Carrying a partition that went to another replica, it would move that replica's
   * committed offset back, and a later rebalance or restart would publish its frames again; carrying
   * one revoked and assigned straight back (an eager rebalance), it would undo the commit made on
   * its {@linkplain #commitRevoked revocation}; carrying one lost and assigned back in the same poll,
   * it could move back what another replica committed meanwhile. Such offsets are left out here,
   * where the current assignment is known.
   */
  @Override
  public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
    commitOwned(offsets, owned -> super.commitSync(owned));
  }

  /** As {@link #commitSync(Map)}, waiting at most {@code timeout}. */
  @Override
  public void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
    commitOwned(offsets, owned -> super.commitSync(owned, timeout));
  }

  /**
   * On the polling thread, inside {@code onPartitionsRevoked}: commits the revoked partitions'
   * offsets before the rebalance goes on, while the group still counts them as this consumer's (the
   * partitions' next owner then starts after them), waiting at most {@code timeout}.
   */
  void commitRevoked(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
    super.commitSync(offsets, timeout);
    noteCommitted(offsets);
  }

  private void commitOwned(
      Map<TopicPartition, OffsetAndMetadata> offsets, Consumer<Map<TopicPartition, OffsetAndMetadata>> commit) {
    Map<TopicPartition, OffsetAndMetadata> owned = owned(offsets);
    if (!owned.isEmpty()) {
      commit.accept(owned);
      noteCommitted(owned);
    }
  }

  private Map<TopicPartition, OffsetAndMetadata> owned(Map<TopicPartition, OffsetAndMetadata> offsets) {
    Set<TopicPartition> assigned = assignment();
    Map<TopicPartition, OffsetAndMetadata> owned = new HashMap<>();
    offsets.forEach((tp, offset) -> {
      if (assigned.contains(tp)
          && !lostInLastPoll.contains(tp)
          && offset.offset() > committedHere.getOrDefault(tp, -1L)) {
        owned.put(tp, offset);
      }
    });
    if (owned.size() < offsets.size()) {
      LOG.debug("Not committing {}: no longer held, or already committed further", offsets.entrySet().stream()
          .filter(e -> !owned.containsKey(e.getKey()))
          .toList());
    }
    return owned;
  }

  private void noteCommitted(Map<TopicPartition, OffsetAndMetadata> offsets) {
    offsets.forEach((tp, offset) -> committedHere.merge(tp, offset.offset(), Math::max));
  }

  @Override
  public void subscribe(Collection<String> topics, ConsumerRebalanceListener listener) {
    super.subscribe(topics, new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        if (!groupMetadata().memberId().equals(membership.memberId()) && membership.generationId() >= 0) {
          // Put out of the group during this rebalance and back in under a new member id, the
          // consumer reports the partitions it no longer has as revoked (cooperative assignment):
          // another member may have had them meanwhile, so they are lost, and nothing of them may
          // be committed under the new membership.
          onPartitionsLost(partitions);
          return;
        }
        // A cooperative rebalance revokes after the group has moved on to the next generation, under
        // which the hook's commit must go.
        noteMembership();
        try {
          hook.onPartitionsRevoked(partitions);
        } finally {
          listener.onPartitionsRevoked(partitions); // Vert.x's: the event loop hears of it either way
        }
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        noteMembership(); // the new generation, before any commit of what is assigned now
        committedHere.keySet().retainAll(assignment()); // the next owner commits the others now
        if (holding) {
          pause(partitions); // a new assignment starts unpaused, and this poll would fetch it
        }
        hook.onPartitionsAssigned(partitions);
        listener.onPartitionsAssigned(partitions);
      }

      @Override
      public void onPartitionsLost(Collection<TopicPartition> partitions) {
        lostInLastPoll.addAll(partitions);
        committedHere.keySet().removeAll(partitions);
        try {
          hook.onPartitionsLost(partitions);
        } finally {
          listener.onPartitionsLost(partitions);
        }
      }
    });
  }
}
