package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.OnContext;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The order outputs are handed to the producer in, with sends this test completes or fails: all at
 * once while they succeed; after a failure the failed one alone, again and again, and only once it
 * went the ones after it, in order.
 */
@ExtendWith(BlockedThreadGuard.class)
class OutboxTest {

  private Vertx vertx;
  private Context loop;
  private Outbox outbox;
  /** Each attempt, by output number, in the order the outbox made them. */
  private final List<Integer> attempts = new ArrayList<>();
  /** The latest attempt of each output, still open. */
  private final Map<Integer, Promise<RecordMetadata>> open = new HashMap<>();
  private final List<Integer> sent = new ArrayList<>();
  private final List<Throwable> failures = new ArrayList<>();
  /** Failures and recoveries as the listener heard them: {@code failed} or {@code recovered}. */
  private final List<String> told = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    loop = vertx.getOrCreateContext();
    outbox = onLoop(() -> new Outbox(vertx, new Outbox.Listener() {
      @Override
      public void failed(Outbox failing, Throwable cause) {
        failures.add(cause);
        told.add("failed");
      }

      @Override
      public void recovered(Outbox recovered) {
        told.add("recovered");
      }
    }));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void sendsGoOutTogetherWhileTheySucceed() throws Exception {
    send(1, 2, 3);
    assertThat(attempts()).containsExactly(1, 2, 3);

    succeed(2);
    succeed(1);
    assertThat(onLoop(outbox::isIdle)).as("3 is still being sent").isFalse();
    succeed(3);
    assertThat(sent()).containsExactly(2, 1, 3);
    assertThat(onLoop(outbox::isIdle)).isTrue();
    assertThat(told()).isEmpty();
  }

  @Test
  void afterAFailureTheFailedOneGoesAloneAndTheRestAfterItInOrder() throws Exception {
    send(1, 2, 3);
    succeed(1);
    fail(2);
    succeed(3); // was with the producer already: Kafka may still take it before 2
    send(4, 5);
    assertThat(attempts()).as("4 and 5 wait behind 2").containsExactly(1, 2, 3);

    awaitAttempts(4);
    assertThat(attempts()).as("2 alone, after the first delay").containsExactly(1, 2, 3, 2);
    fail(2);
    awaitAttempts(5);
    assertThat(attempts()).as("2 alone again").containsExactly(1, 2, 3, 2, 2);
    send(6);
    assertThat(told()).as("3 went meanwhile; 2 still waits").containsExactly("failed", "failed");
    succeed(2);
    assertThat(told()).as("nothing waits once 2 went").containsExactly("failed", "failed", "recovered");
    assertThat(attempts()).as("then the rest, together, in order").containsExactly(1, 2, 3, 2, 2, 4, 5, 6);
    succeed(4);
    succeed(5);
    succeed(6);
    assertThat(sent()).containsExactly(1, 3, 2, 4, 5, 6);
    assertThat(failures()).hasSize(2);
    assertThat(onLoop(outbox::isIdle)).isTrue();
  }

  @Test
  void aFailureAmongTheRestSentAfterARetryHoldsWhatFollowsIt() throws Exception {
    send(1, 2, 3);
    fail(1);
    fail(2);
    fail(3);
    awaitAttempts(4);
    succeed(1);
    assertThat(attempts()).containsExactly(1, 2, 3, 1, 2, 3);
    fail(2);
    succeed(3);
    send(4);
    assertThat(attempts()).as("4 waits behind 2").containsExactly(1, 2, 3, 1, 2, 3);
    assertThat(told()).as("recovered once 1 went, failed again with 2")
        .containsExactly("failed", "failed", "failed", "recovered", "failed");

    awaitAttempts(7);
    succeed(2);
    assertThat(attempts()).containsExactly(1, 2, 3, 1, 2, 3, 2, 4);
    succeed(4);
    assertThat(sent()).containsExactly(1, 3, 2, 4);
    assertThat(told()).endsWith("failed", "recovered");
  }

  private void send(int... outputs) throws Exception {
    onLoop(() -> {
      for (int output : outputs) {
        outbox.send(attempt(output)).onSuccess(meta -> sent.add(output));
      }
      return null;
    });
  }

  private Supplier<Future<RecordMetadata>> attempt(int output) {
    return () -> {
      attempts.add(output);
      Promise<RecordMetadata> promise = Promise.promise();
      open.put(output, promise);
      return promise.future();
    };
  }

  private void succeed(int output) throws Exception {
    onLoop(() -> {
      open.remove(output).complete(new RecordMetadata(output, 0, 0, "predictions"));
      return null;
    });
  }

  private void fail(int output) throws Exception {
    onLoop(() -> {
      open.remove(output).fail(new IllegalStateException("refused " + output));
      return null;
    });
  }

  private List<Integer> attempts() throws Exception {
    return onLoop(() -> List.copyOf(attempts));
  }

  private List<Integer> sent() throws Exception {
    return onLoop(() -> List.copyOf(sent));
  }

  private List<Throwable> failures() throws Exception {
    return onLoop(() -> List.copyOf(failures));
  }

  private List<String> told() throws Exception {
    return onLoop(() -> List.copyOf(told));
  }

  /** Waits (the retry delays are real timers) until {@code count} attempts were made. */
  private void awaitAttempts(int count) {
    await().atMost(Duration.ofSeconds(10)).until(() -> attempts().size() >= count);
  }

  private <T> T onLoop(Callable<T> action) throws Exception {
    return OnContext.call(loop, action);
  }
}
