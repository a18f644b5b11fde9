package dev.gapstream.synth;

import java.util.List;
import java.util.Locale;

/**
 * A frame resolution in pixels, written {@code WIDTHxHEIGHT} (width first, as cameras name it).
 *
 * @param width pixels per row, at least 1
 * @param height rows, at least 1
 */
public record FrameSize(int width, int height) {

  public FrameSize {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("frame size must be positive: " + width + "x" + height);
    }
  }

  /** Parses {@code "128x96"} (case-insensitive {@code x}); throws on anything else. */
  public static FrameSize parse(String text) {
    String[] parts = text.trim().toLowerCase(Locale.ROOT).split("x", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException("expected WIDTHxHEIGHT, e.g. 128x96: " + text);
    }
    try {
      return new FrameSize(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected WIDTHxHEIGHT, e.g. 128x96: " + text, e);
    }
  }

  /** Each of {@code texts} parsed; {@code fallback} when there are none (null or empty). */
  public static List<FrameSize> parseAll(List<String> texts, List<FrameSize> fallback) {
    if (texts == null || texts.isEmpty()) {
      return fallback;
    }
    return texts.stream().map(FrameSize::parse).toList();
  }

  @Override
  public String toString() {
    return width + "x" + height;
  }
}
