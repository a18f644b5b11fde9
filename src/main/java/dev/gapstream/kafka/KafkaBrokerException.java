package dev.gapstream.kafka;

import dev.gapstream.GapstreamException;

/** The embedded broker failed to start, stop or answer an admin request. */
public class KafkaBrokerException extends GapstreamException {
  private static final long serialVersionUID = 1L;

  public KafkaBrokerException(String message, Throwable cause) {
    super(message, cause);
  }
}
