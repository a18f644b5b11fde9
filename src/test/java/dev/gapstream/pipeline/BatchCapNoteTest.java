package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.config.ConfigLoader;
import org.junit.jupiter.api.Test;

/**
 * A batch size that frames in flight can never fill is said at start-up: the user who lowered
 * {@code ingest.max.in.flight} to bound memory learns that batches are bounded with it.
 */
class BatchCapNoteTest {

  @Test
  void aBatchLargerThanTheFramesInFlightIsNoted() {
    assertThat(GapstreamService.batchCappedByFramesInFlight(
            ConfigLoader.builder().set("ingest.max.in.flight", "8").load()))
        .hasValue("batch.max.size=16 is more than ingest.max.in.flight=8: a batch is made of frames in flight,"
            + " so it holds 8 at most");
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
