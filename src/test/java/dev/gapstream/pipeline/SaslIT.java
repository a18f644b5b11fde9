package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.ServiceProcess;
import dev.gapstream.testing.TestPipelines;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gapstream against a listener that requires SASL/PLAIN, configured through the {@code
 * kafka.consumer.*} and {@code kafka.producer.*} pass-through: with the right password frames flow;
 * with a wrong one the process says so clearly and is never ready, within a bounded time. Neither
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

      try (ServiceProcess bad =
          ServiceProcess.start("sasl-wrong", dir, TestPipelines.saslPlain(sasl, USER, WRONG), List.of())) {
        long start = System.nanoTime();
        String verdict = awaitVerdict(bad, Duration.ofSeconds(60));
        double seconds = (System.nanoTime() - start) / 1e9;
        String log = bad.log();
        System.out.printf("SASL wrong password: %s after %.1f s%n", verdict, seconds);
        log.lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).contains("authentication failed"))
            .limit(3).forEach(l -> System.out.println("  " + l));
        assertThat(verdict).isNotEqualTo("undecided");
        assertThat(log).containsIgnoringCase("authentication failed");
        assertThat(log).doesNotContain(WRONG);
        if (bad.isAlive()) {
          assertThat(bad.status("/health/ready")).isEqualTo(503);
          assertThat(bad.body("/metrics")).doesNotContain(WRONG);
        }
      }
    }
  }

  /** Waits until the process exits or reports the authentication failure while not ready. */
  private static String awaitVerdict(ServiceProcess p, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        return "exited with " + p.awaitExit(Duration.ofSeconds(5));
      }
      String log = p.log().toLowerCase(java.util.Locale.ROOT);
      if (log.contains("authentication failed") && p.httpPort() < 0) {
        p.awaitRunning(Duration.ofSeconds(30));
      }
      if (log.contains("authentication failed") && p.httpPort() >= 0 && p.status("/health/ready") == 503) {
        return "reported, not ready (live: " + p.status("/health/live") + ")";
      }
      if (p.httpPort() < 0 && log.contains("management on port")) {
        p.awaitRunning(Duration.ofSeconds(5));
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    return "undecided";
  }
}
