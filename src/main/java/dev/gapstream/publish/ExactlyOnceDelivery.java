package dev.gapstream.publish;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outputs and consumed offsets in one Kafka transaction: a {@code read_committed} reader of the
 * predictions topic sees each frame's prediction exactly once, across crashes and restarts.
 *
 * <p>A transaction opens with the first send after the last commit. To commit, new sends wait;
 * once every send of the transaction is acknowledged, the offsets are added and the transaction
 * commits (on a worker thread: those calls block), then the waiting sends start the next one. The
 * producer must have a {@code transactional.id} and have run {@code initTransactions()}.
 *
 * <p>Event-loop confined, like the pipeline that owns it.
 */
public final class ExactlyOnceDelivery implements Delivery {

  private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceDelivery.class);
  /** The most times one transaction's outputs are sent again (a cooperative rebalance moves the generation twice). */
  private static final int MAX_REPLAYS = 4;
  /** How long a refused commit waits for the consumer's next membership before it fails. */
  private static final long REPLAY_WAIT_MS = 30_000;
  private static final long MEMBERSHIP_CHECK_MS = 5;

  private final Vertx vertx;
  private final RecordingProducer producer;
  private final Supplier<ConsumerGroupMetadata> membership;
  private final Runnable onResent;
  /** Sends for the next transaction, in the order they came. */
  private final Queue<Waiting> waiting = new ArrayDeque<>();
  private boolean open;
  private boolean abandoned;
  /** The commit running now, if any. */
  private Future<Void> committed = Future.succeededFuture();
  private boolean committing;
  private int unacknowledged;
  private Promise<Void> allAcknowledged;
  /** {@linkplain #whenDurable Actions} waiting for the open transaction to commit. */
  private List<Runnable> onCommit = new ArrayList<>();

  /**
   * @param producer over a {@link RecordingProducer}, initialised for transactions
   * @param membership the consumer's group metadata of its current membership, read from any thread:
   *     offsets committed with it are refused once the group has moved on without this replica
   * @param onResent runs on the event loop each time a refused transaction's outputs have gone out
   *     again in a new one (counted for operators: {@code gapstream_transactions_resent_total})
   */
  public ExactlyOnceDelivery(
      Vertx vertx,
      KafkaProducer<byte[], byte[]> producer,
      Supplier<ConsumerGroupMetadata> membership,
      Runnable onResent) {
    if (!(producer.unwrap() instanceof RecordingProducer recording)) {
      throw new IllegalArgumentException("exactly-once delivery needs a producer over a RecordingProducer");
    }
    this.vertx = vertx;
    this.producer = recording;
    this.membership = membership;
    this.onResent = onResent;
  }

  @Override
  public Future<RecordMetadata> send(Supplier<Future<RecordMetadata>> send) {
    if (abandoned) {
      return Future.failedFuture(new IllegalStateException("the delivery was abandoned"));
    }
    // Behind those waiting too: one made while they start (a frame finished synchronously by an
    // earlier one's completion) would otherwise overtake the rest of its partition's.
    if (committing || !waiting.isEmpty()) {
      Waiting later = new Waiting(send, Promise.promise());
      waiting.add(later);
      return later.sent().future();
    }
    return sendNow(send);
  }

  private Future<RecordMetadata> sendNow(Supplier<Future<RecordMetadata>> send) {
    if (!open) {
      producer.beginTransaction(); // local state only: does not block
      open = true;
    }
    unacknowledged++;
    return send.get()
        .andThen(ar -> {
          unacknowledged--;
          if (unacknowledged == 0 && allAcknowledged != null) {
            allAcknowledged.tryComplete();
          }
        });
  }

  @Override
  public Future<Void> commit(Supplier<Map<TopicPartition, OffsetAndMetadata>> offsets) {
    if (abandoned) {
      return Future.failedFuture(new IllegalStateException("the delivery was abandoned"));
    }
    if (!open) {
      return Future.succeededFuture(); // nothing sent since the last commit: offsets went with it
    }
    committing = true;
    allAcknowledged = Promise.promise();
    if (unacknowledged == 0) {
      allAcknowledged.complete();
    }
    committed = allAcknowledged
        .future()
        // The last acknowledgement completes allAcknowledged from inside its own callbacks, before
        // the pipeline's handler has marked that record finished; asking for the offsets on the
        // next event-loop turn sees it, so the transaction commits the offset of every output in it.
        .compose(v -> nextTurn())
        .compose(v -> {
          if (abandoned) {
            return abortOnWorker().compose(x -> Future.failedFuture(new IllegalStateException("the delivery was abandoned")));
          }
          // Asked only now: every send of this transaction is acknowledged, and outputs leave in
          // offset order, so every record whose output is in it has finished, as has every earlier
          // record of its partition: its offset is in the map.
          return commitOnWorker(Delivery.toNative(offsets.get()), MAX_REPLAYS);
        })
        .<Void>mapEmpty()
        .andThen(ar -> transactionEnded(ar.succeeded()))
        .onFailure(e -> producer.forgetSent()) // nothing of it will be sent again
        .eventually(() -> {
          open = false;
          committing = false;
          allAcknowledged = null;
          Waiting next;
          while (!committing && (next = waiting.poll()) != null) {
            if (abandoned) {
              next.sent().fail(new IllegalStateException("the delivery was abandoned"));
            } else {
              sendNow(next.send()).onComplete(next.sent());
            }
          }
          return Future.succeededFuture();
        });
    return committed;
  }

  /**
   * Adds the offsets to the open transaction and commits it, on a worker: those calls block. The
   * group's metadata is the consumer's as of its latest poll, and the consumer polls on while the
   * transaction is open: where a rebalance moved the group to a new generation meanwhile (a
   * cooperative one does so without revoking these partitions first), the broker refuses the
   * offsets and the transaction is aborted. Nothing was wrong with its outputs, and the partitions
   * are still this replica's: once the consumer has the new generation, they are {@linkplain #replay
   * sent again} in a new transaction, which commits with it. (Failing the pipeline instead restarted
   * a replica at every such rebalance.) A replica put out of the group waits for nothing: its
   * consumer hears that its partitions were lost, and the pipeline fails and abandons the delivery.
   */
  private Future<Void> commitOnWorker(
      Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets,
      int replaysLeft) {
    ConsumerGroupMetadata group = membership.get();
    return vertx.<Void>executeBlocking(() -> {
          try {
            if (!offsets.isEmpty()) {
              producer.sendOffsetsToTransaction(offsets, group);
            }
            producer.commitTransaction();
          } catch (KafkaException e) {
            abortQuietly(e);
            throw e;
          }
          return null;
        }, false)
        .recover(e -> {
          if (!groupMovedOn(e) || replaysLeft == 0 || abandoned) {
            return Future.failedFuture(e);
          }
          if (!producer.keptAll()) {
            return Future.failedFuture(new KafkaException("the group moved on while a transaction was open, and its"
                + " outputs were more than the " + producer.maxBytes() + " bytes kept to send them again (the"
                + " producer's buffer.memory)", e));
          }
          LOG.info("The group moved on from generation {} while a transaction was open ({}); sending its {} outputs"
              + " again in a new one", group.generationId(), e.getMessage(), producer.sentInTransaction().size());
          return membershipAfter(group, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REPLAY_WAIT_MS), e)
              .compose(v -> replay())
              .andThen(ar -> {
                if (ar.succeeded()) {
                  onResent.run();
                }
              })
              .compose(v -> abandoned // the partitions were lost meanwhile: nothing of them may commit
                  ? abortOnWorker().compose(x -> Future.<Void>failedFuture(e))
                  : commitOnWorker(offsets, replaysLeft - 1));
        });
  }

  private static boolean groupMovedOn(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CommitFailedException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Completes once the consumer has a later generation of the same membership than {@code refused};
   * fails where it has a new member id: the group put this replica out and it joined again, so the
   * transaction's partitions may have been another's meanwhile, and a replay would publish their
   * outputs beside that replica's (the broker takes any offsets from a current member).
   */
  private Future<Void> membershipAfter(ConsumerGroupMetadata refused, long deadline, Throwable cause) {
    ConsumerGroupMetadata now = membership.get();
    if (abandoned || !now.memberId().equals(refused.memberId())) {
      return Future.failedFuture(cause);
    }
    if (now.generationId() > refused.generationId()) {
      return Future.succeededFuture();
    }
    if (System.nanoTime() - deadline > 0) {
      return Future.failedFuture(cause);
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(MEMBERSHIP_CHECK_MS, id -> membershipAfter(refused, deadline, cause).onComplete(later));
    return later.future();
  }

  /**
   * On a worker: a new transaction with the aborted one's outputs, sent in their order, and all
   * acknowledged. A send that fails aborts it, and the commit fails.
   */
  private Future<Void> replay() {
    return vertx.executeBlocking(() -> {
      List<ProducerRecord<byte[], byte[]>> outputs = producer.sentInTransaction();
      producer.beginTransaction();
      try {
        List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> acks = new ArrayList<>();
        outputs.forEach(record -> acks.add(producer.send(record)));
        producer.flush();
        for (var ack : acks) {
          ack.get();
        }
      } catch (ExecutionException | InterruptedException | RuntimeException e) {
        KafkaException failed = new KafkaException(
            "sending the aborted transaction's outputs again failed",
            e instanceof ExecutionException ? e.getCause() : e);
        abortQuietly(failed); // left open, it would hold read_committed readers up to its timeout
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        throw failed;
      }
      return null;
    }, false);
  }

  /**
   * Once the open transaction has committed: its outputs acknowledged, a {@code read_committed}
   * reader sees them only then, and an abort would send them again after the restart (counted
   * again, had they been counted at their acknowledgement). Never if it is aborted. With no
   * transaction open, whatever was acknowledged has committed already.
   *
   * <p>An acknowledgement's handlers run before the transaction that holds it can commit (the
   * commit waits for them, see {@link #commit}), so an action added there waits for that
   * transaction.
   */
  @Override
  public void whenDurable(Runnable action) {
    if (abandoned) {
      return; // the open transaction is aborted, or was
    }
    if (open) {
      onCommit.add(action);
    } else {
      action.run();
    }
  }

  /** Runs the transaction's actions if it committed; the next one starts without them either way. */
  private void transactionEnded(boolean committed) {
    List<Runnable> actions = onCommit;
    onCommit = new ArrayList<>();
    if (committed) {
      actions.forEach(Runnable::run);
    }
  }

  /**
   * No commit from now on; a commit already running ends first (what it commits was decided
   * before), and the open transaction is aborted, so that {@code read_committed} readers are not
   * held up until it times out. Sends waiting for the next transaction fail.
   */
  @Override
  public Future<Void> abandon() {
    abandoned = true;
    return committed
        .transform(ar -> {
          if (!open) {
            return Future.<Void>succeededFuture(); // the running commit ended the transaction
          }
          open = false;
          onCommit.clear(); // what they waited for is aborted
          return abortOnWorker();
        })
        .andThen(ar -> {
          Waiting next;
          while ((next = waiting.poll()) != null) {
            next.sent().fail(new IllegalStateException("the delivery was abandoned"));
          }
        });
  }

  private record Waiting(Supplier<Future<RecordMetadata>> send, Promise<RecordMetadata> sent) {}

  /**
   * A commit refused (the group moved on without this replica, say) leaves the transaction open, and
   * until it ends {@code read_committed} readers see nothing past its first output: up to {@code
   * transaction.timeout.ms}, a minute by default. Aborted now, the pipeline's failure costs them
   * nothing. A fenced producer cannot abort; its transaction is the broker's to end.
   */
  /**
   * Aborts after {@code cause}, which stays the failure. After a commit that timed out the producer
   * refuses the abort with an IllegalStateException (the commit must be retried): that replaced the
   * timeout as the reported cause. The commit's outcome is then unknown; the broker settles it, or
   * the next {@code initTransactions} with this id does.
   */
  private void abortQuietly(KafkaException cause) {
    try {
      producer.abortTransaction();
    } catch (KafkaException | IllegalStateException e) {
      cause.addSuppressed(e);
    }
  }

  private Future<Void> abortOnWorker() {
    return vertx.executeBlocking(() -> {
      try {
        producer.abortTransaction();
      } catch (KafkaException | IllegalStateException e) { // see abortQuietly
        LOG.warn("Aborting the open transaction failed: {}", e.toString());
      }
      return null;
    }, false);
  }

  private Future<Void> nextTurn() {
    Promise<Void> turn = Promise.promise();
    vertx.runOnContext(v -> turn.complete());
    return turn.future();
  }
}
