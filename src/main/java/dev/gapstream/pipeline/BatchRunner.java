package dev.gapstream.pipeline;

import dev.gapstream.batch.Batch;
import dev.gapstream.ingest.Frame;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs the model on one batch and says what became of each frame, in the batch's order. Blocking:
 * called on the inference worker pool only. A failure of the whole batch is thrown; the pipeline
 * then dead-letters the batch's frames it has no outcome for, and only those.
 */
@FunctionalInterface
public interface BatchRunner {

  /**
   * Runs {@code batch}. The outcomes of its first frames may go to {@code early} as soon as they are
   * known, in order and any number of times (a batch that runs in several runs hands over each run's
   * but the last), on this thread; the list returned holds the rest.
   */
  List<Outcome> run(Batch<Shape, Frame> batch, Consumer<List<Outcome>> early);

  /** Runs {@code batch} and returns every frame's outcome at once. */
  default List<Outcome> run(Batch<Shape, Frame> batch) {
    List<Outcome> all = new ArrayList<>(batch.size());
    List<Outcome> rest = run(batch, all::addAll);
    all.addAll(rest);
    return all;
  }
}
