package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.gapstream.Main;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  /** A model file that is no ONNX model is refused by config as run refuses it, not passed. */
  @Test
  void aFileThatIsNoModelIsRefused(@TempDir Path dir) throws Exception {
    Path yaml = Files.writeString(dir.resolve("model.onnx"), "batch:\n  max.size: 8\n");
    CliRun run = CliRun.of("config", "--set", "inference.model.path=" + yaml);

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains(yaml.toString()).contains("not an ONNX model");
    assertThat(run.out()).isEmpty();
  }

  /**
   * What run checks against the model and the ONNX Runtime build before it starts anything, config
   * checks too: it passed a longest side below the model's minimum, and a provider the build lacks.
   */
  @Test
  void limitsTheModelCannotTakeAndAProviderTheBuildLacksAreRefused() {
    CliRun small = CliRun.of("config", "--set", "ingest.resize.max.side=16");
    assertThat(small.code()).isEqualTo(2);
    assertThat(small.err()).contains("ingest.resize.max.side: 16 is below the model's minimum input 32x32");
    assertThat(small.out()).isEmpty();

    CliRun cuda = CliRun.of("config", "--set", "inference.provider=cuda");
    if (OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) { // the -Pcuda build
      assertThat(cuda.code()).as(cuda.err()).isZero();
    } else {
      assertThat(cuda.code()).isEqualTo(2);
      assertThat(cuda.err()).contains("inference.provider=cuda: this ONNX Runtime build has no CUDA provider");
    }
  }

  /**
   * On a machine of more processors than ingest.decode.threads allows (256), its default, the
   * processors, was out of its own range: every command failed at start-up naming a key no one had
   * set. Run in a JVM told it has 300.
   */
  @Test
  void theDefaultsHoldOnAMachineOfManyProcessors() throws Exception {
    Process p = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:ActiveProcessorCount=300",
            "-cp", System.getProperty("java.class.path"), Main.class.getName(), "config")
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("ingest.decode.threads=256");
  }

  @Test
  void aBadValueIsNamedWithItsKey() {
    CliRun run = CliRun.of("config", "--set", "batch.max.size=0");

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("batch.max.size: 0 is out of range [1, 1024]");
  }
}
