package dev.gapstream.ingest;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;

/**
 * Copies a decoded image's pixels into interleaved RGB bytes, reading the raster's backing array
 * directly for the layouts decoders produce most (no per-pixel {@code getRGB} calls).
 */
public final class RgbPixels {

  private RgbPixels() {}

  /** The image's pixels as interleaved 8-bit RGB, row-major, in an array from {@code buffers}. */
  static byte[] of(BufferedImage image, PixelBuffers buffers) {
    byte[] rgb = buffers.take(3 * image.getWidth() * image.getHeight());
    switch (image.getType()) {
      case BufferedImage.TYPE_3BYTE_BGR -> fromBgr(bytes(image), rgb);
      case BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB -> fromInts(ints(image), rgb);
      case BufferedImage.TYPE_BYTE_GRAY -> fromGray(bytes(image), rgb);
      default -> fromBgr(bytes(redraw(image)), rgb);
    }
    return rgb; // every byte written by one of the copies above: a reused array keeps nothing old
  }

  /** Scales an image to the given size with bilinear filtering (for fixed-size models). */
  static BufferedImage resize(BufferedImage image, int width, int height) {
    return scaled(image, width, height, BufferedImage.TYPE_3BYTE_BGR);
  }

  /** A bilinear-filtered copy of {@code image} at the given size, of the given BufferedImage type. */
  public static BufferedImage scaled(BufferedImage image, int width, int height, int type) {
    BufferedImage out = new BufferedImage(width, height, type);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(image, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  private static byte[] bytes(BufferedImage image) {
    return ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
  }

  private static int[] ints(BufferedImage image) {
    return ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
  }

  private static void fromBgr(byte[] bgr, byte[] rgb) {
    for (int i = 0; i < rgb.length; i += 3) {
      rgb[i] = bgr[i + 2];
      rgb[i + 1] = bgr[i + 1];
      rgb[i + 2] = bgr[i];
    }
  }

  private static void fromInts(int[] argb, byte[] rgb) {
    for (int p = 0, i = 0; p < argb.length; p++, i += 3) {
      int v = argb[p];
      rgb[i] = (byte) (v >> 16);
      rgb[i + 1] = (byte) (v >> 8);
      rgb[i + 2] = (byte) v;
    }
  }

  private static void fromGray(byte[] gray, byte[] rgb) {
    for (int p = 0, i = 0; p < gray.length; p++, i += 3) {
      rgb[i] = gray[p];
      rgb[i + 1] = gray[p];
      rgb[i + 2] = gray[p];
    }
  }

  /** Any other layout (palette, 16-bit, alpha over a background): let Java2D convert it. */
  private static BufferedImage redraw(BufferedImage image) {
    BufferedImage out =
        new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = out.createGraphics();
    try {
      g.drawImage(image, 0, 0, null);
    } finally {
      g.dispose();
    }
    return out;
  }
}
