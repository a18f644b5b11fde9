package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code config} validates a configuration as {@code run} would before it is deployed: a bad value
 * and a missing model file are named with their key, exit 2; a good one is printed, secrets redacted.
 */
class ConfigCommandTest {

  @Test
  void printsTheEffectiveConfigurationWithSecretsRedacted() {
    CliRun run = CliRun.of("config", "--set", "kafka.producer.sasl.jaas.config=secret-123", "--set", "batch.max.size=8");

    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("batch.max.size=8", "inference.model.path=").doesNotContain("secret-123");
  }

  @Test
  void aMissingModelFileIsNamedWithItsKey() {
    CliRun run = CliRun.of("config", "--set", "inference.model.path=/nonexistent/m.onnx");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("inference.model.path=/nonexistent/m.onnx: no such model file");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void aBadValueIsNamedWithItsKey() {
    CliRun run = CliRun.of("config", "--set", "batch.max.size=0");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("batch.max.size: 0 is out of range [1, 1024]");
  }
}
