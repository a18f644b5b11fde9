package dev.gapstream.pipeline;

import dev.gapstream.inference.ClassActivationMap;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.publish.Prediction;

/**
 * Sees each prediction together with its frame's pixels and class activation map, for the live
 * view. Called on the inference worker that made the prediction, before it is published: an
 * implementation must return at once (sample, copy what it keeps, render elsewhere) and must not
 * throw.
 */
@FunctionalInterface
public interface PredictionTap {

  PredictionTap NONE = (pixels, prediction, cam) -> {};

  /**
   * @param pixels the decoded frame; valid only during the call
   * @param cam the top class's map, or null when the model or configuration gives none
   */
  void onPrediction(DecodedFrame pixels, Prediction prediction, ClassActivationMap cam);

  /** This tap, then {@code next}, for every prediction. */
  default PredictionTap andThen(PredictionTap next) {
    return (pixels, prediction, cam) -> {
      onPrediction(pixels, prediction, cam);
      next.onPrediction(pixels, prediction, cam);
    };
  }
}
