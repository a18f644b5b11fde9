package dev.gapstream.synth;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.List;
import java.util.Random;

/**
 * A seeded source of labelled frames: one object of a known class per frame, at a random position,
 * size, rotation and colour, on a cluttered background (a two-colour gradient, sensor-like noise
 * and a few faint lines). The same seed and sizes always give the same sequence of frames.
 *
 * <p>The clutter is deliberately lower-contrast than the object (the object's luminance differs
 * from the background's by at least {@value #MIN_CONTRAST} levels, lines by at most {@value
 * #MAX_LINE_CONTRAST}), so the task is learnable by a small net and the object is the only salient
 * thing to localise. Objects span {@value #MIN_FRACTION}–{@value #MAX_FRACTION} of the shorter side
 * and lie wholly inside the frame.
 *
 * <p>Not thread-safe: it owns a {@link Random}. Use one instance per thread.
 */
public final class SyntheticFrames {

  /**
   * The largest frame drawn, in pixels: four times the service's default {@code ingest.max.pixels},
   * so that frames it dead-letters as too large can be made. Larger ones overflowed Java2D's int
   * (50000x50000 failed as "error: -1794967296") or drew for minutes.
   */
  public static final long MAX_PIXELS = 8192L * 8192;

  /** Class names; a frame's label is an index into this list. The order is part of the model. */
  public static final List<String> LABELS =
      List.of("circle", "square", "triangle", "star", "cross", "ring");

  /** Camera-like resolutions, 64–256 px per side; few of them, so equal shapes batch together. */
  public static final List<FrameSize> DEFAULT_SIZES =
      List.of(
          new FrameSize(64, 64),
          new FrameSize(96, 128),
          new FrameSize(128, 96),
          new FrameSize(128, 128),
          new FrameSize(160, 120),
          new FrameSize(192, 256),
          new FrameSize(224, 224),
          new FrameSize(256, 192),
          new FrameSize(256, 256));

  static {
    // Java2D draws off-screen only; without this a set-but-unreachable DISPLAY would be tried.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  static final double MIN_FRACTION = 0.30;
  static final double MAX_FRACTION = 0.60;
  static final int MIN_CONTRAST = 80;
  static final int MAX_LINE_CONTRAST = 40;
  private static final double NOISE_SIGMA = 6.0;

  private final Random random;
  private final List<FrameSize> sizes;
  private final boolean clutter;

  public SyntheticFrames(long seed) {
    this(seed, DEFAULT_SIZES);
  }

  public SyntheticFrames(long seed, List<FrameSize> sizes) {
    this(seed, sizes, true);
  }

  /**
   * With {@code clutter} false the background is one flat colour: tests can then find the object.
   */
  SyntheticFrames(long seed, List<FrameSize> sizes, boolean clutter) {
    check(sizes);
    this.random = new PlainRandom(seed);
    this.sizes = List.copyOf(sizes);
    this.clutter = clutter;
  }

  /**
   * Checks that frames of {@code sizes} can be drawn, so that a command can refuse them before it
   * starts anything.
   *
   * @throws IllegalArgumentException when there are none, or one is under 16 px on a side or over
   *     {@link #MAX_PIXELS}
   */
  public static void check(List<FrameSize> sizes) {
    if (sizes.isEmpty()) {
      throw new IllegalArgumentException("at least one frame size is needed");
    }
    for (FrameSize s : sizes) {
      if (Math.min(s.width(), s.height()) < 16) {
        throw new IllegalArgumentException("frames must be at least 16 px per side: " + s);
      }
      if ((long) s.width() * s.height() > MAX_PIXELS) {
        throw new IllegalArgumentException(
            "frames must be at most " + MAX_PIXELS + " px (8192x8192) to draw: " + s);
      }
    }
  }

  /** The next frame of this seed's sequence. */
  public SyntheticFrame next() {
    FrameSize size = sizes.get(random.nextInt(sizes.size()));
    int label = random.nextInt(LABELS.size());
    BufferedImage image =
        new BufferedImage(size.width(), size.height(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      int backgroundLuma = 40 + random.nextInt(176);
      drawBackground(g, size, backgroundLuma);
      Box box = drawObject(g, size, label, backgroundLuma);
      if (clutter) {
        addNoise(image);
      }
      return new SyntheticFrame(image, label, box);
    } finally {
      g.dispose();
    }
  }

  private void drawBackground(Graphics2D g, FrameSize size, int luma) {
    if (!clutter) {
      g.setColor(colourWithLuma(luma));
      g.fillRect(0, 0, size.width(), size.height());
      return;
    }
    Color from = colourWithLuma(clamp(luma + random.nextInt(41) - 20));
    Color to = colourWithLuma(clamp(luma + random.nextInt(41) - 20));
    g.setPaint(
        new GradientPaint(
            random.nextFloat() * size.width(),
            random.nextFloat() * size.height(),
            from,
            random.nextFloat() * size.width(),
            random.nextFloat() * size.height(),
            to));
    g.fillRect(0, 0, size.width(), size.height());
    int lines = 2 + random.nextInt(3);
    for (int i = 0; i < lines; i++) {
      int delta = (15 + random.nextInt(MAX_LINE_CONTRAST - 14)) * (random.nextBoolean() ? 1 : -1);
      g.setColor(colourWithLuma(clamp(luma + delta)));
      g.setStroke(new BasicStroke(1f + random.nextInt(3)));
      g.drawLine(
          random.nextInt(size.width()), random.nextInt(size.height()),
          random.nextInt(size.width()), random.nextInt(size.height()));
    }
  }

  private Box drawObject(Graphics2D g, FrameSize size, int label, int backgroundLuma) {
    int shorter = Math.min(size.width(), size.height());
    double fraction = MIN_FRACTION + random.nextDouble() * (MAX_FRACTION - MIN_FRACTION);
    double radius = fraction * shorter / 2;
    AffineTransform rotateScale = new AffineTransform();
    rotateScale.rotate(random.nextDouble() * 2 * Math.PI);
    rotateScale.scale(radius, radius);
    Shape centred = rotateScale.createTransformedShape(Shapes.of(label));
    Rectangle2D b = centred.getBounds2D();
    // Keep a one-pixel margin so antialiased edges never touch the border.
    double minX = 1 - b.getMinX();
    double maxX = size.width() - 1 - b.getMaxX();
    double minY = 1 - b.getMinY();
    double maxY = size.height() - 1 - b.getMaxY();
    double tx = minX + random.nextDouble() * Math.max(0, maxX - minX);
    double ty = minY + random.nextDouble() * Math.max(0, maxY - minY);
    Shape placed = AffineTransform.getTranslateInstance(tx, ty).createTransformedShape(centred);

    int objectLuma =
        backgroundLuma < 128
            ? backgroundLuma
                + MIN_CONTRAST
                + random.nextInt(Math.max(1, 256 - backgroundLuma - MIN_CONTRAST))
            : random.nextInt(Math.max(1, backgroundLuma - MIN_CONTRAST + 1));
    g.setColor(colourWithLuma(clamp(objectLuma)));
    g.fill(placed);

    // An Area's bounds are the outline's own. A transformed shape is a Path2D, whose bounds on
    // JDK 17 take in its curves' control points (JDK-8176501, fixed in 19): a circle at 29 degrees
    // got a box 14% wider on each side, and the CAM-in-box figures a looser target for circles and
    // rings. (The placement above keeps those bounds: the same seed draws the same frames.)
    Rectangle2D p = new Area(placed).getBounds2D();
    return new Box(
        Math.max(0, (int) Math.floor(p.getMinX())),
        Math.max(0, (int) Math.floor(p.getMinY())),
        Math.min(size.width(), (int) Math.ceil(p.getMaxX())),
        Math.min(size.height(), (int) Math.ceil(p.getMaxY())));
  }

  /**
   * Adds Gaussian noise per channel, like a camera sensor; drawn after the object so it has it too.
   */
  private void addNoise(BufferedImage image) {
    int[] pixels = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < pixels.length; i++) {
      int rgb = pixels[i];
      int r = clamp(((rgb >> 16) & 0xff) + (int) Math.round(random.nextGaussian() * NOISE_SIGMA));
      int gr = clamp(((rgb >> 8) & 0xff) + (int) Math.round(random.nextGaussian() * NOISE_SIGMA));
      int bl = clamp((rgb & 0xff) + (int) Math.round(random.nextGaussian() * NOISE_SIGMA));
      pixels[i] = (r << 16) | (gr << 8) | bl;
    }
  }

  /**
   * A random hue shifted to the given Rec. 601 luma. The shift is uniform across channels, so
   * clamping can move the luma a little; the contrast margins leave room for that.
   */
  private Color colourWithLuma(int luma) {
    int r = random.nextInt(256);
    int g = random.nextInt(256);
    int b = random.nextInt(256);
    // Damp saturation so that shifting toward the target luma rarely clips a channel.
    r = (r + luma) / 2;
    g = (g + luma) / 2;
    b = (b + luma) / 2;
    int shift = luma - (int) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    return new Color(clamp(r + shift), clamp(g + shift), clamp(b + shift));
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }
}
