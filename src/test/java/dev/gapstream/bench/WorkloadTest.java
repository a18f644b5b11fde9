package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.batch.Batch;
import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.OffsetTracker;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.Outcome;
import dev.gapstream.pipeline.Shape;
import dev.gapstream.synth.FrameSize;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkloadTest {

  /**
   * Stages 2 and 5 run CAMs as the pipeline does in stages 3 and 4, whatever cam.enabled says:
   * configured off, they skipped them while the pipeline's headline row made them, and the ratios
   * compared a pipeline doing more.
   */
  @Test
  void theStagesRunnerMakesCamsAsThePipelinesRowsDo() throws Exception {
    GapstreamConfig config = ConfigLoader.builder().set("cam.enabled", "false").set("batch.calibrate", "false").load();
    ModelSpec spec = ModelSpec.load(config.inference().modelPath());
    Workload workload = new Workload(config, spec, FrameSource.synthetic(1, new FrameSize(96, 96), "jpeg", 3));
    try (InferenceEngine engine = workload.openEngine();
        GapstreamMetrics metrics = GapstreamMetrics.create()) {
      Frame frame = new Frame(workload.record("frames", 0), new OffsetTracker(), System.nanoTime());
      DecodedFrame pixels = workload.decoder().decode(workload.frames().get(0).data(), "image/jpeg", null, null);
      frame.decoded(pixels, System.nanoTime());
      long now = System.nanoTime();
      List<Outcome> outcomes = workload.runner(engine, metrics)
          .run(new Batch<>(new Shape(pixels.width(), pixels.height()), List.of(frame), now, now));

      assertThat(outcomes.get(0).isPrediction()).isTrue();
      assertThat(new String(outcomes.get(0).json(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"cam\":");
    }
  }
}
