package dev.gapstream.inference;

import java.util.Base64;

/**
 * A heatmap scaled min–max to 0…255 (one byte per cell, row-major) and base64-encoded: the compact
 * form published with a prediction. {@code min} and {@code max} are the original range, so a reader
 * can map bytes back to values. Immutable.
 */
public record QuantizedHeatmap(int width, int height, float min, float max, String base64) {

  /** Quantises {@code heatmap} ({@code height × width}, row-major). A flat map encodes as zeros. */
  public static QuantizedHeatmap of(float[] heatmap, int width, int height) {
    int cells = width * height;
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < cells; i++) {
      min = Math.min(min, heatmap[i]);
      max = Math.max(max, heatmap[i]);
    }
    float range = max - min;
    byte[] bytes = new byte[cells];
    for (int i = 0; i < cells; i++) {
      bytes[i] = range > 0 ? (byte) Math.round((heatmap[i] - min) / range * 255f) : 0;
    }
    return new QuantizedHeatmap(width, height, min, max, Base64.getEncoder().encodeToString(bytes));
  }

  /** The 8-bit levels, 0…255, row-major. */
  public int[] levels() {
    byte[] bytes = Base64.getDecoder().decode(base64);
    int[] out = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = bytes[i] & 0xff;
    }
    return out;
  }

  /** The values the levels stand for, within (max − min) / 510 of the originals. */
  public float[] decode() {
    int[] levels = levels();
    float[] out = new float[levels.length];
    for (int i = 0; i < levels.length; i++) {
      out[i] = min + (max - min) * levels[i] / 255f;
    }
    return out;
  }
}
