package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkTest {

  /**
   * Calibration bounds batch.max.pixels for the whole run; a compared batch.max.size under that
   * bound kept the calibrated batches (on an H200, --compare batch.max.size=64 ran batches of 16).
   */
  @Test
  void aComparedBatchSizeGetsTheConfiguredPixelBoundBack() {
    assertThat(Benchmark.variant(Map.of("batch.max.size", "64"), true, 4_194_304L))
        .containsExactly(Map.entry("batch.max.size", "64"), Map.entry("batch.max.pixels", "4194304"));
  }

  @Test
  void otherVariantsAreLeftAsGiven() {
    assertThat(Benchmark.variant(Map.of("batch.max.size", "64", "batch.max.pixels", "802816"), true, 4_194_304L))
        .as("the variant's own bound")
        .containsOnly(Map.entry("batch.max.size", "64"), Map.entry("batch.max.pixels", "802816"));
    assertThat(Benchmark.variant(Map.of("batch.max.size", "64"), false, 4_194_304L))
        .as("not calibrated: nothing bounds it")
        .containsOnly(Map.entry("batch.max.size", "64"));
    assertThat(Benchmark.variant(Map.of("inference.concurrency", "4"), true, 4_194_304L))
        .containsOnly(Map.entry("inference.concurrency", "4"));
  }

  /** bench warns when a variant's batch bounds leave the batches as they were. */
  @Test
  void aVariantBoundBelowTheConfiguredBatchesComparesNothing() {
    long frame = 224 * 224;
    GapstreamConfig config =
        ConfigLoader.builder().set(Map.of("batch.max.size", "16", "batch.max.pixels", String.valueOf(16 * frame))).load();
    assertThat(Benchmark.sameBatches(config, Map.of("batch.max.size", "64"), frame))
        .as("64 frames, but still 16 frames' pixels")
        .isTrue();
    assertThat(Benchmark.sameBatches(config, Map.of("batch.max.size", "64", "batch.max.pixels", "4194304"), frame))
        .isFalse();
    assertThat(Benchmark.sameBatches(config, Map.of("batch.max.size", "8"), frame)).isFalse();
    assertThat(Benchmark.sameBatches(config, Map.of("inference.concurrency", "4"), frame))
        .as("no batch bound in the variant: other keys are what it compares")
        .isFalse();
  }
}
