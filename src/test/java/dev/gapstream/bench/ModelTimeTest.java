package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.metrics.PipelineMetrics;
import org.junit.jupiter.api.Test;

class ModelTimeTest {

  private static final long MS = 1_000_000;

  /**
   * Two workers over one second: four batches of 40 frames, each 100 ms of tensor, 200 of run and
   * 50 of results, are 800 ms of runs (40% of the two workers' time) and 1400 ms on batches (70%).
   * What was recorded before the window does not count.
   */
  @Test
  void splitsTheWorkersTimeIntoTheRunAndTheirOwnParts() {
    try (GapstreamMetrics metrics = GapstreamMetrics.create()) {
      PipelineMetrics pipeline = metrics.pipeline();
      batch(pipeline, 900 * MS, 900 * MS, 900 * MS);
      ModelTime before = ModelTime.of(metrics.registry());
      for (int i = 0; i < 4; i++) {
        batch(pipeline, 100 * MS, 200 * MS, 50 * MS);
      }

      BenchReport.Model m = ModelTime.of(metrics.registry()).since(before, 160, 1.0, 2);

      assertThat(m.msPerFrame()).as("800 ms of runs / 2 workers / 160 frames").isCloseTo(2.5, within(1e-9));
      assertThat(m.busy()).isCloseTo(0.4, within(1e-9));
      assertThat(m.tensorMsPerBatch()).isCloseTo(100, within(1e-9));
      assertThat(m.runMsPerBatch()).isCloseTo(200, within(1e-9));
      assertThat(m.resultsMsPerBatch()).isCloseTo(50, within(1e-9));
      assertThat(m.workersBusy()).isCloseTo(0.7, within(1e-9));
    }
  }

  /** No batch in the window: no time per batch, rather than a division by zero. */
  @Test
  void noBatchesGiveNoTimePerBatch() {
    try (GapstreamMetrics metrics = GapstreamMetrics.create()) {
      ModelTime before = ModelTime.of(metrics.registry());

      BenchReport.Model m = ModelTime.of(metrics.registry()).since(before, 1, 1.0, 2);

      assertThat(m.tensorMsPerBatch()).isNaN();
      assertThat(m.runMsPerBatch()).isNaN();
      assertThat(m.resultsMsPerBatch()).isNaN();
      assertThat(m.workersBusy()).isZero();
    }
  }

  private static void batch(PipelineMetrics pipeline, long tensorNanos, long runNanos, long resultsNanos) {
    pipeline.recordBatchTensor(tensorNanos);
    pipeline.recordInference(runNanos);
    pipeline.recordBatchResults(resultsNanos);
  }
}
