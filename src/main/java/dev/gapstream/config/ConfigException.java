package dev.gapstream.config;

import dev.gapstream.GapstreamException;

/**
 * The configuration is invalid: an unknown key, a value of the wrong type, or one outside its
 * allowed range. The message names the key, the bad value and what is allowed, e.g. {@code
 * batch.max.size: 0 is out of range [1, 1024]}; it is meant to be shown to the user as is.
 */
public class ConfigException extends GapstreamException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
