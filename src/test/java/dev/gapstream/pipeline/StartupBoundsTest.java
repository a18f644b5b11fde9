package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.config.ConfigLoader;
import org.junit.jupiter.api.Test;

/**
 * Settings that the heap or each other bound: a batch size that frames in flight can never fill is
 * said at start-up (the user who lowered {@code ingest.max.in.flight} to bound memory learns that
 * batches are bounded with it), and the pixel pool and the frames in flight keep a quarter of the
 * heap at most each.
 */
class StartupBoundsTest {

  @Test
  void aBatchLargerThanTheFramesInFlightIsNoted() {
    assertThat(GapstreamService.batchCappedByFramesInFlight(
            ConfigLoader.builder().set("ingest.max.in.flight", "8").load()))
        .hasValue("batch.max.size=16 is more than ingest.max.in.flight=8: a batch is made of frames in flight,"
            + " so it holds 8 at most");
  }

  @Test
  void thePixelPoolKeepsAQuarterOfTheHeapAtMost() {
    long mib = 1 << 20;
    var defaults = ConfigLoader.builder().load(); // 64 MiB
    assertThat(GapstreamService.pixelPoolBytes(defaults, 1024 * mib)).isEqualTo(64 * mib);
    assertThat(GapstreamService.pixelPoolBytes(defaults, 192 * mib)).isEqualTo(48 * mib);
    assertThat(GapstreamService.pixelPoolBytes(
            ConfigLoader.builder().set("ingest.pixel.pool.bytes", "0").load(), 192 * mib))
        .as("none asked, none kept")
        .isZero();
  }

  @Test
  void theFramesInFlightKeepAQuarterOfTheHeapAtMost() {
    long mib = 1 << 20;
    var defaults = ConfigLoader.builder().load(); // 256 MiB
    assertThat(GapstreamService.maxInFlightBytes(defaults, 1434 * mib)).isEqualTo(256 * mib);
    assertThat(GapstreamService.maxInFlightBytes(defaults, 384 * mib)).isEqualTo(96 * mib);
    assertThat(GapstreamService.maxInFlightBytes(
            ConfigLoader.builder().set("ingest.max.in.flight.bytes", "1MiB").load(), 384 * mib))
        .isEqualTo(mib);
  }

  @Test
  void theDefaultsSayNothing() {
    assertThat(GapstreamService.batchCappedByFramesInFlight(ConfigLoader.builder().load())).isEmpty();
    assertThat(GapstreamService.batchCappedByFramesInFlight(
            ConfigLoader.builder().set("ingest.max.in.flight", "16").load()))
        .as("exactly a batch in flight")
        .isEmpty();
  }
}
