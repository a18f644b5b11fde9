package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.http.Health;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.OnContext;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code broker} readiness check over several outboxes, as the pipeline has them (a partition's
 * predictions and its dead letters apart, per input partition): down from the first failure of any
 * of them until every one that failed has sent what waited, whatever the others send meanwhile.
 */
@ExtendWith(BlockedThreadGuard.class)
class OutboxReadinessTest {

  private Vertx vertx;
  private Context loop;
  private Health health;
  private OutboxReadiness readiness;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    loop = vertx.getOrCreateContext();
    health = new Health();
    health.set(OutboxReadiness.CHECK, true);
    readiness = new OutboxReadiness(health);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aRefusingDeadLetterTopicKeepsReadinessDownWhilePredictionsGoOut() throws Exception {
    Sends predictions = new Sends(onLoop(() -> new Outbox(vertx, readiness)));
    Sends deadLetters = new Sends(onLoop(() -> new Outbox(vertx, readiness)));

    deadLetters.send();
    deadLetters.fail();
    assertThat(broker()).as("the dead letter was refused").isFalse();

    for (int i = 0; i < 3; i++) {
      predictions.send();
      predictions.succeed();
      assertThat(broker()).as("prediction %d went, the dead letter still waits", i).isFalse();
      deadLetters.awaitAttempt();
      deadLetters.fail(); // refused again
    }

    deadLetters.awaitAttempt();
    deadLetters.succeed();
    assertThat(broker()).as("the dead letter went").isTrue();
  }

  @Test
  void readinessComesBackOnlyOnceEveryFailingOutboxHasRecovered() throws Exception {
    Sends first = new Sends(onLoop(() -> new Outbox(vertx, readiness)));
    Sends second = new Sends(onLoop(() -> new Outbox(vertx, readiness)));
    first.send();
    second.send();
    first.fail();
    second.fail();

    first.awaitAttempt();
    first.succeed();
    assertThat(broker()).as("the second still waits").isFalse();
    second.awaitAttempt();
    second.succeed();
    assertThat(broker()).isTrue();
  }

  private boolean broker() {
    return health.checks().get(OutboxReadiness.CHECK);
  }

  /** One outbox's sends, each attempt an open promise this test completes, oldest first. */
  private final class Sends {
    private final Outbox outbox;
    private final Deque<Promise<RecordMetadata>> open = new ArrayDeque<>();

    Sends(Outbox outbox) {
      this.outbox = outbox;
    }

    void send() throws Exception {
      onLoop(() -> outbox.send(() -> {
        Promise<RecordMetadata> attempt = Promise.promise();
        open.add(attempt);
        return attempt.future();
      }));
    }

    void succeed() throws Exception {
      onLoop(() -> open.poll().tryComplete(new RecordMetadata(0, 0, 0, "topic")));
    }

    void fail() throws Exception {
      onLoop(() -> open.poll().tryFail(new IllegalStateException("refused")));
    }

    /** Waits for the outbox's retry (its delays are real timers: 100 ms, then doubling). */
    void awaitAttempt() {
      await().atMost(Duration.ofSeconds(10)).until(() -> onLoop(() -> !open.isEmpty()));
    }
  }

  private <T> T onLoop(Callable<T> action) throws Exception {
    return OnContext.call(loop, action);
  }
}
