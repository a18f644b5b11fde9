package dev.gapstream.pipeline;

import dev.gapstream.batch.Batch;
import dev.gapstream.ingest.Frame;
import java.util.List;

/**
 * Runs the model on one batch and says what became of each frame, in the batch's order. Blocking:
 * called on the inference worker pool only. A failure of the whole batch is thrown; the pipeline
 * then dead-letters the batch's frames, and only those.
 */
@FunctionalInterface
public interface BatchRunner {
  List<Outcome> run(Batch<Shape, Frame> batch);
}
