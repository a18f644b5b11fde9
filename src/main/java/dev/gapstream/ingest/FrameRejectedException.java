package dev.gapstream.ingest;

import dev.gapstream.GapstreamException;

/** A frame that cannot become a prediction; it goes to the dead-letter topic with its reason. */
public final class FrameRejectedException extends GapstreamException {
  private static final long serialVersionUID = 1L;

  private final RejectReason reason;

  public FrameRejectedException(RejectReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public FrameRejectedException(RejectReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public RejectReason reason() {
    return reason;
  }
}
