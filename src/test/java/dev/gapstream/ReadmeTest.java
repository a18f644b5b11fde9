package dev.gapstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.cli.ConfigCommand;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.metrics.GapstreamMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README is part of the contract: it must name what the code has, and CI must run its command. */
class ReadmeTest {

  private static final Path HOME = Path.of(System.getProperty("gapstream.home", "."));

  private static String read(String file) throws IOException {
    return Files.readString(HOME.resolve(file));
  }

  @Test
  void documentsEveryConfigurationKey() throws IOException {
    String readme = read("README.md");
    assertThat(ConfigKeys.DEF.keys().keySet()).allSatisfy(key -> assertThat(readme).contains("`" + key + "`"));
  }

  /** The table is what {@code gapstream config --keys} prints, so the two cannot drift apart. */
  @Test
  void theConfigurationTableIsConfigKeys() throws IOException {
    assertThat(read("README.md")).contains(ConfigCommand.keyTable());
  }

  @Test
  void documentsEveryMetric() throws IOException {
    String readme = read("README.md");
    assertThat(GapstreamMetrics.PROMETHEUS_NAMES).allSatisfy(name -> assertThat(readme).contains(name));
  }

  @Test
  void ciRunsTheReadmesTestCommand() throws IOException {
    assertThat(read("README.md")).contains("./gapstream demo --frames 2000", "./mvnw verify");
    assertThat(read(".ci/run")).containsPattern("(?m)^\\./mvnw -B verify$");
  }
}
