package dev.gapstream;

/**
 * Root of gapstream's own exceptions. Subclasses say which stage failed; callers that must keep
 * a pipeline running catch this type at stage boundaries and turn it into a dead letter or a
 * clear start-up error.
 */
public class GapstreamException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public GapstreamException(String message) {
    super(message);
  }

  public GapstreamException(String message, Throwable cause) {
    super(message, cause);
  }
}
