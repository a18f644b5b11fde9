package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.ServiceProcess;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gapstream against a listener that requires SASL/PLAIN, configured through the {@code
 * kafka.consumer.*} and {@code kafka.producer.*} pass-through: with the right password frames flow;
 * with a wrong one the process logs the refusal and stays up, live and never ready, its {@code
 * partitions} check down. Neither
 * password appears in the process's output or on {@code /metrics}.
 */
class SaslIT {

  private static final String USER = "gapstream";
  private static final String PASSWORD = "pw-Zq81-right-secret";
  private static final String WRONG = "pw-Xk27-wrong-secret";
  private static final int FRAMES = 200;

  @TempDir Path dir;

  @Test
  void rightPasswordWorksWrongPasswordFailsClearlyAndNoSecretLeaks() throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.builder().saslUsers(Map.of(USER, PASSWORD)).start()) {
      KafkaState.createTopics(broker, 4);

      String sasl = broker.saslBootstrapServers();
      try (ServiceProcess good =
              ServiceProcess.start("sasl-right", dir, TestPipelines.saslPlain(sasl, USER, PASSWORD), List.of());
          Outputs out = Outputs.read(broker.bootstrapServers())) {
        good.awaitRunning(Duration.ofSeconds(60)).awaitReady(Duration.ofSeconds(60));
        FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "sasl", 4, FrameFeed.jpegs(8, 64, 64, 8));
        feed.send(0, FRAMES, 0);
        Outputs.Tally tally = out.await(feed.ids(FRAMES), Duration.ofMinutes(1));
        String metrics = good.body("/metrics");
        String config = good.log();
        System.out.println("SASL right password: " + tally);
        assertThat(tally.predicted()).as(tally.toString()).isEqualTo(FRAMES);
        assertThat(metrics).isNotBlank().doesNotContain(PASSWORD);
        assertThat(config).contains("sasl.jaas.config=[redacted]").doesNotContain(PASSWORD);
      }

      // Refused credentials: the process stays up (live, so not restarted in a loop), unready with
      // the checks that cannot come up named, and logs the client's reason; no secret anywhere.
      try (ServiceProcess bad =
          ServiceProcess.start("sasl-wrong", dir, TestPipelines.saslPlain(sasl, USER, WRONG), List.of())) {
        bad.awaitRunning(Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(60)).until(() ->
            bad.log().toLowerCase(Locale.ROOT).contains("authentication failed"));
        TimeUnit.SECONDS.sleep(2); // the retries that follow leave it as it is
        String log = bad.log();
        log.lines().filter(l -> l.toLowerCase(Locale.ROOT).contains("authentication failed"))
            .limit(3).forEach(l -> System.out.println("  " + l));
        assertThat(bad.isAlive()).as("still running:%n%s", bad.tail()).isTrue();
        assertThat(bad.status("/health/live")).isEqualTo(200);
        assertThat(bad.status("/health/ready")).isEqualTo(503);
        JsonObject checks = new JsonObject(bad.body("/health/ready")).getJsonObject("checks");
        assertThat(checks.getBoolean("partitions")).as("%s", checks).isFalse();
        assertThat(checks.getBoolean("model")).as("%s", checks).isTrue();
        assertThat(log).doesNotContain(WRONG);
        assertThat(bad.body("/metrics")).isNotBlank().doesNotContain(WRONG);
      }
    }
  }
}
