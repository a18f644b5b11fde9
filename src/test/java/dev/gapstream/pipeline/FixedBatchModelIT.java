package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.inference.TestModels;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.TestPipelines;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A user's model exported without a dynamic batch dimension (PyTorch's default): its input takes
 * batches of exactly 1. With the default {@code batch.max.size} of 16 the service used to fail at
 * start-up, in the warm-up's first full batch, with ONNX Runtime's "Got: 16 Expected: 1"; it now
 * runs batches of one, says so, and predicts every frame.
 */
@ExtendWith(BlockedThreadGuard.class)
class FixedBatchModelIT {

  @Test
  void aModelWhoseBatchIsFixedAtOneRunsInBatchesOfOne() throws Exception {
    String model = TestModels.ensure("tiny-cam-batch1").toString();
    try (GapstreamService service = TestPipelines.start(Map.of("inference.model.path", model, "batch.calibrate", "true"));
        Outputs out = Outputs.read(service.bootstrapServers())) {
      assertThat(service.batchPolicy().maxSize()).isEqualTo(1);
      FrameFeed feed = new FrameFeed(service.bootstrapServers(), "frames", "fixed", 4, FrameFeed.jpegs(6, 64, 48, 9));
      List<String> ids = feed.ids(12);
      feed.send(0, 12, 0);

      Outputs.Tally tally = out.await(ids, Duration.ofMinutes(1));
      assertThat(tally.predicted()).as(tally.toString()).isEqualTo(12);
      assertThat(tally.lost()).isZero();
    }
  }
}
