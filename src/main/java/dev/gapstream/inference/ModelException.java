package dev.gapstream.inference;

import dev.gapstream.GapstreamException;

/**
 * A model or its descriptor could not be read, is not what gapstream can serve, or failed to run.
 * The message names the file (or the configuration key) and the problem, so it can be shown to an
 * operator as it is.
 */
public class ModelException extends GapstreamException {
  private static final long serialVersionUID = 1L;

  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
