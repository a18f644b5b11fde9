package dev.gapstream.inference;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Draws a class activation map over the frame it was computed for: the map bilinearly upsampled to
 * the frame, min–max normalised, coloured with a dark-to-bright ramp and blended at {@link
 * #DEFAULT_OPACITY}; then the box, the peak and a caption (e.g. {@code circle 0.97}). Coordinates
 * are the map's fractions of width and height, so any frame size works.
 *
 * <p>Stateless and thread-safe; each call allocates and returns a new {@code TYPE_INT_RGB} image
 * the size of the frame and never modifies the frame. Works headless (needs the JDK's fonts only
 * for the caption).
 */
public final class CamOverlay {
  /** How much of the colour map shows over the frame. */
  public static final float DEFAULT_OPACITY = 0.45f;

  /** Ramp anchors, dark to bright (approximately the "inferno" map at t = 0, ¼, ½, ¾, 1). */
  private static final int[][] RAMP = {
    {0, 0, 4}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164}
  };

  private CamOverlay() {}

  /**
   * The frame with {@code cam} drawn over it and {@code caption} at the box; with a null {@code
   * cam} only the caption (top-left). {@code caption} may be null or empty for none.
   */
  public static BufferedImage render(BufferedImage frame, ClassActivationMap cam, String caption) {
    int w = frame.getWidth();
    int h = frame.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] pixels = frame.getRGB(0, 0, w, h, null, 0, w);
    if (cam != null) {
      float[] heat =
          upsample(cam.heatmap(), cam.width(), cam.height(), w, h, cam.spanX(), cam.spanY(), cam.cellCentre());
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = blend(pixels[i], colour(heat[i]), DEFAULT_OPACITY);
      }
    }
    out.setRGB(0, 0, w, h, pixels, 0, w);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      float[] box = cam == null ? new float[] {0, 0, 1, 1} : cam.box();
      if (cam != null) {
        drawBoxAndPeak(g, cam, w, h);
      }
      if (caption != null && !caption.isEmpty()) {
        drawCaption(g, caption, Math.round(box[0] * w), Math.round(box[1] * h), w, h);
      }
    } finally {
      g.dispose();
    }
    return out;
  }

  /**
   * The {@code mapW × mapH} map resampled to {@code outW × outH} by bilinear interpolation between
   * cell centres (edges clamped), scaled to [0, 1]; a flat map gives zeros.
   */
  static float[] upsample(float[] map, int mapW, int mapH, int outW, int outH) {
    return upsample(map, mapW, mapH, outW, outH, 1f, 1f, ModelSpec.CELL_MIDDLE);
  }

  /**
   * As {@link #upsample(float[], int, int, int, int)}, for a map whose grid spans {@code spanX} of
   * the frame's width and {@code spanY} of its height (see {@link ClassActivationMap#spanX()}), each
   * cell's value placed at {@code cellCentre} of the cell, where the peak is drawn (the heat was
   * drawn 7/16 of a cell right of and below the shipped model's peak marker).
   */
  static float[] upsample(
      float[] map, int mapW, int mapH, int outW, int outH, float spanX, float spanY, float cellCentre) {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < mapW * mapH; i++) {
      min = Math.min(min, map[i]);
      max = Math.max(max, map[i]);
    }
    float range = max > min ? max - min : 1f;
    float[] out = new float[outW * outH];
    for (int y = 0; y < outH; y++) {
      float fy = clamp((y + 0.5f) * mapH / (outH * spanY) - cellCentre, 0, mapH - 1);
      int y0 = (int) fy;
      int y1 = Math.min(y0 + 1, mapH - 1);
      float dy = fy - y0;
      for (int x = 0; x < outW; x++) {
        float fx = clamp((x + 0.5f) * mapW / (outW * spanX) - cellCentre, 0, mapW - 1);
        int x0 = (int) fx;
        int x1 = Math.min(x0 + 1, mapW - 1);
        float dx = fx - x0;
        float top = map[y0 * mapW + x0] * (1 - dx) + map[y0 * mapW + x1] * dx;
        float bottom = map[y1 * mapW + x0] * (1 - dx) + map[y1 * mapW + x1] * dx;
        out[y * outW + x] = (top * (1 - dy) + bottom * dy - min) / range;
      }
    }
    return out;
  }

  /** The ramp's colour at {@code t} in [0, 1] (clamped), as 0xRRGGBB. */
  static int colour(float t) {
    float pos = clamp(t, 0, 1) * (RAMP.length - 1);
    int i = Math.min((int) pos, RAMP.length - 2);
    float f = pos - i;
    int rgb = 0;
    for (int c = 0; c < 3; c++) {
      int v = Math.round(RAMP[i][c] + (RAMP[i + 1][c] - RAMP[i][c]) * f);
      rgb = (rgb << 8) | v;
    }
    return rgb;
  }

  private static int blend(int under, int over, float alpha) {
    int rgb = 0;
    for (int shift = 16; shift >= 0; shift -= 8) {
      int a = (under >> shift) & 0xff;
      int b = (over >> shift) & 0xff;
      rgb |= Math.round(a * (1 - alpha) + b * alpha) << shift;
    }
    return rgb;
  }

  private static void drawBoxAndPeak(Graphics2D g, ClassActivationMap cam, int w, int h) {
    float stroke = Math.max(2f, Math.min(w, h) / 160f);
    int x0 = Math.round(cam.box()[0] * w);
    int y0 = Math.round(cam.box()[1] * h);
    int x1 = Math.round(cam.box()[2] * w) - 1;
    int y1 = Math.round(cam.box()[3] * h) - 1;
    // a dark outline under a light line stays visible on any frame and heatmap colour
    g.setStroke(new BasicStroke(stroke + 2));
    g.setColor(Color.BLACK);
    g.drawRect(x0, y0, x1 - x0, y1 - y0);
    g.setStroke(new BasicStroke(stroke));
    g.setColor(Color.WHITE);
    g.drawRect(x0, y0, x1 - x0, y1 - y0);
    int px = Math.round(cam.peakX() * w);
    int py = Math.round(cam.peakY() * h);
    int r = Math.round(3 * stroke);
    g.setColor(Color.CYAN);
    g.drawLine(px - 2 * r, py, px + 2 * r, py);
    g.drawLine(px, py - 2 * r, px, py + 2 * r);
    g.drawOval(px - r, py - r, 2 * r, 2 * r);
  }

  /** The caption on a dark band at (x, y), moved inside the frame where it would overflow. */
  private static void drawCaption(Graphics2D g, String caption, int x, int y, int w, int h) {
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(10, Math.min(w, h) / 20)));
    FontMetrics m = g.getFontMetrics();
    int tw = m.stringWidth(caption) + 6;
    int th = m.getHeight() + 2;
    int bx = Math.max(0, Math.min(x, w - tw));
    int by = y - th >= 0 ? y - th : Math.min(y, Math.max(0, h - th));
    g.setColor(new Color(0, 0, 0, 170));
    g.fillRect(bx, by, tw, th);
    g.setColor(Color.WHITE);
    g.drawString(caption, bx + 3, by + 1 + m.getAscent());
  }

  private static float clamp(float v, float lo, float hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
