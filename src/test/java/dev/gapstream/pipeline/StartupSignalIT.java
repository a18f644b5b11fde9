package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.testing.ServiceProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C or SIGTERM while {@code run} still starts: the start gives up and closes what it started.
 * Before, the shutdown hook was registered once the start had returned, and a signal during the
 * seconds it takes (the embedded broker, the model, calibration) left the broker's temporary data
 * directory behind.
 */
class StartupSignalIT {

  @TempDir Path dir;

  @Test
  void aSignalWhileTheModelWarmsUpLeavesNoBrokerDirectoryBehind() throws Exception {
    // Calibration: seconds of warm-up after the broker is up, in which the signal lands.
    try (ServiceProcess service =
        ServiceProcess.start("signalled", dir, Map.of("batch.calibrate", "true"), List.of())) {
      awaitLine(service, "Embedded Kafka broker on");
      Path tmp = service.temporaryDirectory();
      assertThat(brokerDirectories(tmp)).as("the embedded broker's data directory").hasSize(1);

      service.terminate();
      service.awaitExit(Duration.ofSeconds(90));

      assertThat(service.log())
          .contains("Start-up abandoned as the JVM exits")
          .doesNotContain("gapstream is running");
      assertThat(brokerDirectories(tmp)).as("left behind in " + tmp).isEmpty();
    }
  }

  private static void awaitLine(ServiceProcess service, String line) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!service.log().contains(line)) {
      if (System.nanoTime() > deadline || !service.isAlive()) {
        throw new AssertionError("no \"" + line + "\" in the log:\n" + service.tail());
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  private static List<Path> brokerDirectories(Path tmp) throws IOException {
    try (Stream<Path> files = Files.list(tmp)) {
      return files.filter(p -> p.getFileName().toString().startsWith("gapstream-kafka-")).toList();
    }
  }
}
