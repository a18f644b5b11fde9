package dev.gapstream.pipeline;

import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.RejectReason;

/**
 * What became of one frame of a batch: a serialised prediction, or a reason to dead-letter it.
 * Exactly one of {@code json} and {@code reason} is set.
 */
public record Outcome(Frame frame, byte[] json, RejectReason reason, String error) {

  public static Outcome predicted(Frame frame, byte[] json) {
    return new Outcome(frame, json, null, null);
  }

  public static Outcome rejected(Frame frame, RejectReason reason, String error) {
    return new Outcome(frame, null, reason, error);
  }

  public boolean isPrediction() {
    return json != null;
  }
}
