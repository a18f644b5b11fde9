package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.bench.BenchReport.Throughput;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.synth.FrameSize;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InProcessStageTest {

  /**
   * A run of a few batches still has a rate: the batch that crossed the warm-up mark could hold
   * every frame left, and the stage counted none and reported 0 frames a second (3 runs in 3 of
   * 10 frames, before). Such a run is now timed whole, and says so.
   */
  @Test
  void aRunOfAFewBatchesCountsItsFrames() throws Exception {
    GapstreamConfig config = ConfigLoader.builder().set("batch.calibrate", "false").load();
    ModelSpec spec = ModelSpec.load(config.inference().modelPath());
    Workload workload = new Workload(config, spec, FrameSource.synthetic(10, new FrameSize(224, 224), "jpeg", 1));
    try (InferenceEngine engine = workload.openEngine();
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      for (int run = 0; run < 3; run++) {
        Throughput t =
            new InProcessStage(workload, workload.runner(engine, metrics), metrics.registry(), 0.1)
                .run(Duration.ofMinutes(1));

        assertThat(t.frames()).as("run %d", run).isPositive();
        assertThat(t.framesPerSecond()).as("run %d", run).isPositive();
        assertThat(t.model().workersBusy()).as("run %d: workers busy, a share of the window", run).isBetween(0.0, 1.05);
        if (t.timedFromStart()) {
          assertThat(t.frames()).as("run %d: timed whole", run).isEqualTo(10);
        }
      }
    }
  }
}
