package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.ingest.OffsetTracker;
import dev.gapstream.publish.Delivery;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Commits move each partition to the end of its finished prefix, at most once per interval; a
 * revocation and the final commit go out at once. Runs on a real Vert.x context (the committer
 * is event-loop confined) against a delivery that records what it is asked to commit.
 */
@ExtendWith(BlockedThreadGuard.class)
class OffsetCommitterTest {

  private static final String TOPIC = "frames";
  private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
  private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

  private final Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
  private final Context context = vertx.getOrCreateContext();
  private final RecordingDelivery delivery = new RecordingDelivery();
  /** What the committers reported as fatal: thrown from a timer, an assertion would be lost. */
  private final List<String> fatal = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() throws Exception {
    assertThat(fatal).as("fatal reports").isEmpty();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void finishedFramesWithinOneIntervalShareOneLaterCommit() throws Exception {
    // Long enough that no stall of a loaded machine between these lines outlasts it.
    OffsetCommitter committer = onContext(() -> committer(Duration.ofSeconds(5)));
    onContext(() -> finishAndCommit(committer, 0, 1)); // first commit goes out at once
    onContext(() -> finishAndCommit(committer, 1, 20)); // 19 more finish within the interval

    assertThat(delivery.offsets()).containsExactly(1L);
    await().atMost(Duration.ofSeconds(30)).until(() -> delivery.offsets().size() > 1);
    assertThat(delivery.offsets()).as("one more commit, at the interval's end").containsExactly(1L, 20L);
  }

  @Test
  void withoutAnIntervalEachFinishedFrameIsCommittedOnceTheLastCommitIsDone() throws Exception {
    OffsetCommitter committer = onContext(() -> committer(Duration.ZERO));
    for (int i = 0; i < 5; i++) {
      int offset = i;
      onContext(() -> finishAndCommit(committer, offset, offset + 1));
    }

    assertThat(delivery.offsets()).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  @Test
  void revocationAndTheFinalCommitDoNotWaitForTheInterval() throws Exception {
    OffsetCommitter committer = onContext(() -> committer(Duration.ofMinutes(1)));
    onContext(() -> finishAndCommit(committer, 0, 1));
    onContext(() -> finishAndCommit(committer, 1, 3));
    onContext(() -> {
      committer.revoked(List.of(P0));
      return null;
    });
    assertThat(delivery.offsets()).containsExactly(1L, 3L);

    OffsetCommitter other = onContext(() -> committer(Duration.ofMinutes(1)));
    onContext(() -> finishAndCommit(other, 0, 1));
    onContext(() -> finishAndCommit(other, 1, 2));
    onContext(() -> other.commitFinal().toCompletionStage().toCompletableFuture());
    assertThat(delivery.offsets()).containsExactly(1L, 3L, 1L, 2L);
  }

  /**
   * At-least-once, in a rebalance: the revoked partition's finished offsets are handed over for the
   * rebalance to commit, and from then on no commit carries the partition, not even for frames that
   * were in flight and finish afterwards; other partitions commit as before. Outputs of frames in
   * flight not yet on their way are dropped: the partition's next owner reads those frames again.
   */
  @Test
  void aHandedOverPartitionIsLeftToTheRebalanceAndNoLaterCommitCarriesIt() throws Exception {
    OffsetCommitter committer = onContext(() -> committer(Duration.ofMinutes(1)));
    onContext(() -> {
      committer.assigned(List.of(P1));
      return null;
    });
    onContext(() -> finishAndCommit(committer, 0, 1)); // the first commit goes out at once: P0 at 1
    onContext(() -> finishAndCommit(committer, 1, 4)); // waits for the interval
    OffsetTracker inFlight = onContext(() -> committer.consumed(record(0, 4)));
    onContext(() -> {
      for (long offset = 0; offset < 3; offset++) {
        committer.consumed(record(1, offset)).finished(offset);
      }
      return null;
    });

    Map<TopicPartition, OffsetAndMetadata> handed = onContext(() -> committer.handOver(List.of(P0)));
    assertThat(handed).containsOnlyKeys(P0);
    assertThat(handed.get(P0).getOffset()).as("finished since the last commit").isEqualTo(4L);
    assertThat(inFlight.isRevoked()).as("its frames in flight left to the next owner").isTrue();

    onContext(() -> {
      inFlight.finished(4); // its output was on its way before the revocation
      return committer.commitFinal().toCompletionStage().toCompletableFuture();
    });
    assertThat(delivery.commits())
        .as("P0 at 1 before the hand-over; then only P1")
        .containsExactly(Map.of(P0, 1L), Map.of(P1, 3L));
    assertThat(onContext(() -> committer.handOver(List.of(P0)))).as("nothing handed over twice").isEmpty();
  }

  /**
   * A partition lost and assigned again while a commit that carried it was running: its new tracker
   * commits from where its records start. The commit's success recorded the old tracker's offset for
   * the partition, and the new one's commits were held back until they passed it.
   */
  @Test
  void aPartitionAssignedAgainDuringACommitCommitsFromItsNewRecords() throws Exception {
    OffsetCommitter committer = onContext(() -> committer(Duration.ZERO));
    Promise<Void> held = Promise.promise();
    delivery.holdNext(held);
    onContext(() -> {
      for (long offset = 0; offset < 100; offset++) {
        committer.consumed(record(0, offset)).finished(offset);
      }
      committer.commit(); // P0 at 100, held
      committer.forget(List.of(P0));
      committer.assigned(List.of(P0));
      held.complete();
      return null;
    });
    onContext(() -> finishAndCommit(committer, 40, 60)); // the group's commit was older: 40 on

    List<Long> expected = new ArrayList<>(List.of(100L));
    LongStream.rangeClosed(41, 60).forEach(expected::add); // one commit a frame: no interval
    assertThat(delivery.offsets()).isEqualTo(expected);
  }

  /**
   * Exactly-once: a partition whose records go back without a revocation (its log truncated after
   * an unclean leader election) fails the pipeline, and the frames in flight from before are not
   * sent. They went out in the open transaction without an offset, and again when read a second
   * time: a read_committed reader saw both. At-least-once starts the partition over, as before.
   */
  @Test
  void exactlyOnceFailsWhenAPartitionsRecordsGoBackWithoutARevocation() throws Exception {
    OffsetCommitter committer = onContext(() -> {
      OffsetCommitter c = new OffsetCommitter(vertx, true, Duration.ofSeconds(5), fatal::add);
      c.deliverThrough(delivery);
      c.assigned(List.of(P0));
      return c;
    });
    OffsetTracker before = onContext(() -> {
      OffsetTracker t = null;
      for (long offset = 10; offset <= 20; offset++) {
        t = committer.consumed(record(0, offset));
      }
      return t;
    });
    OffsetTracker after = onContext(() -> committer.consumed(record(0, 12)));

    assertThat(before.isRevoked()).as("the frames in flight from before go out no more").isTrue();
    assertThat(after).isNotSameAs(before);
    assertThat(fatal).singleElement().asString()
        .startsWith("partition frames-0 went back to offset 12 without a revocation");
    fatal.clear();

    OffsetCommitter atLeastOnce = onContext(() -> committer(Duration.ZERO));
    OffsetTracker first = onContext(() -> {
      OffsetTracker t = null;
      for (long offset = 10; offset <= 20; offset++) {
        t = atLeastOnce.consumed(record(0, offset));
      }
      return t;
    });
    onContext(() -> atLeastOnce.consumed(record(0, 12)));
    assertThat(first.isRevoked()).isFalse();
  }

  /**
   * Commits back to back (no interval, a frame finishing during each one) for 5,000 commits: the
   * first commit's future, and a final commit asked for at the hundredth, complete, and nothing
   * overflows. Each commit's future used to wait on the next one's: a chain as long as the run,
   * whose completion overflowed the stack past about 2,000 links, leaving the final commit (and a
   * stop waiting for it) unfinished for good.
   */
  @Test
  void commitsBackToBackCompleteEachOnItsOwn() throws Exception {
    int commits = 5_000;
    List<Throwable> thrown = new CopyOnWriteArrayList<>();
    context.exceptionHandler(thrown::add);
    CompletableFuture<Future<Void>> finalCommit = new CompletableFuture<>();
    CompletableFuture<Void> last = new CompletableFuture<>();
    OffsetCommitter[] committer = new OffsetCommitter[1];
    long[] next = {0};
    int[] count = {0};
    Runnable finishOne = () -> {
      committer[0].consumed(record(0, next[0])).finished(next[0]);
      next[0]++;
    };
    Delivery backToBack = new CommitsOnly() {
      @Override
      public Future<Void> commit(Supplier<Map<TopicPartition, OffsetAndMetadata>> taken) {
        taken.get();
        int n = ++count[0];
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
          if (n == 100) {
            finalCommit.complete(committer[0].commitFinal());
          }
          if (n < commits) { // a frame finishes while this commit runs
            finishOne.run();
            committer[0].commit();
          } else {
            last.complete(null);
          }
          done.complete();
        });
        return done.future();
      }
    };
    Future<Void> first = onContext(() -> {
      committer[0] = new OffsetCommitter(vertx, false, Duration.ZERO, fatal::add);
      committer[0].deliverThrough(backToBack);
      committer[0].assigned(List.of(P0));
      finishOne.run();
      return committer[0].commit();
    });
    last.get(60, TimeUnit.SECONDS);
    onContext(() -> null); // the last commit's completion runs

    assertThat(thrown).as("thrown on the context").isEmpty();
    assertThat(first.isComplete()).as("the first commit's future").isTrue();
    Future<Void> fin = finalCommit.get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(fin::isComplete);
    assertThat(fin.succeeded()).isTrue();
    assertThat(count[0]).isGreaterThanOrEqualTo(commits);
  }

  private OffsetCommitter committer(Duration interval) {
    OffsetCommitter committer =
        new OffsetCommitter(vertx, false, interval, fatal::add);
    committer.deliverThrough(delivery);
    committer.assigned(List.of(P0));
    return committer;
  }

  private static ConsumerRecord<byte[], byte[]> record(int partition, long offset) {
    return new ConsumerRecord<>(TOPIC, partition, offset, new byte[0], new byte[0]);
  }

  /** Consumes and finishes offsets [from, to) of partition 0, committing after each. */
  private static Void finishAndCommit(OffsetCommitter committer, long from, long to) {
    for (long offset = from; offset < to; offset++) {
      OffsetTracker tracker = committer.consumed(record(0, offset));
      if (tracker.finished(offset)) {
        committer.commit();
      }
    }
    return null;
  }

  /** Runs {@code task} on the test's one Vert.x context and waits for it (and for a future it returns). */
  private <T> T onContext(Supplier<T> task) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        T value = task.get();
        if (value instanceof CompletableFuture<?> pending) {
          pending.whenComplete((r, e) -> {
            if (e != null) {
              result.completeExceptionally(e);
            } else {
              result.complete(value);
            }
          });
        } else {
          result.complete(value);
        }
      } catch (RuntimeException | AssertionError e) {
        result.completeExceptionally(e);
      }
    });
    T value = result.get(10, TimeUnit.SECONDS);
    // Let the committer's own callbacks (a commit's completion) run before looking.
    CompletableFuture<Void> drained = new CompletableFuture<>();
    context.runOnContext(v -> drained.complete(null));
    drained.get(10, TimeUnit.SECONDS);
    return value;
  }

  /** A delivery whose sends go at once and are durable when acknowledged: only its commits differ. */
  private abstract static class CommitsOnly implements Delivery {
    @Override
    public Future<RecordMetadata> send(Supplier<Future<RecordMetadata>> send) {
      return send.get();
    }

    @Override
    public void whenDurable(Runnable action) {
      action.run();
    }
  }

  /** A delivery that commits by remembering what it was asked to commit (partition 0's offsets apart). */
  private static final class RecordingDelivery extends CommitsOnly {
    private final List<Long> offsets = new CopyOnWriteArrayList<>();
    private final List<Map<TopicPartition, Long>> commits = new CopyOnWriteArrayList<>();
    private Promise<Void> held;

    /** The next commit completes with {@code promise}, not at once. */
    void holdNext(Promise<Void> promise) {
      held = promise;
    }

    @Override
    public Future<Void> commit(Supplier<Map<TopicPartition, OffsetAndMetadata>> taken) {
      Map<TopicPartition, OffsetAndMetadata> now = taken.get();
      OffsetAndMetadata p0 = now.get(P0);
      if (p0 != null) {
        offsets.add(p0.getOffset());
      }
      if (!now.isEmpty()) {
        Map<TopicPartition, Long> commit = new HashMap<>();
        now.forEach((tp, o) -> commit.put(tp, o.getOffset()));
        commits.add(commit);
      }
      Promise<Void> completion = held;
      held = null;
      return completion == null ? Future.succeededFuture() : completion.future();
    }

    List<Long> offsets() {
      return List.copyOf(offsets);
    }

    List<Map<TopicPartition, Long>> commits() {
      return List.copyOf(commits);
    }
  }
}
