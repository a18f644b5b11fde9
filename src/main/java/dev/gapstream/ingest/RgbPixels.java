package dev.gapstream.ingest;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.awt.image.WritableRaster;

/**
 * Interleaved 8-bit RGB pixels: images that decoders write straight into such an array, and copies
 * of other images' pixels into one, reading the raster's backing array directly for the layouts
 * decoders produce most (no per-pixel {@code getRGB} calls).
 */
public final class RgbPixels {

  private static final ColorModel RGB =
      new ComponentColorModel(
          ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false, Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
  private static final int[] RGB_OFFSETS = {0, 1, 2};

  private RgbPixels() {}

  /**
   * An sRGB image whose pixels are {@code rgb} itself (row-major, R, G, B): what is drawn or
   * decoded into it lands in the array.
   */
  static BufferedImage image(byte[] rgb, int width, int height) {
    SampleModel layout =
        new PixelInterleavedSampleModel(DataBuffer.TYPE_BYTE, width, height, 3, 3 * width, RGB_OFFSETS);
    WritableRaster raster = Raster.createWritableRaster(layout, new DataBufferByte(rgb, rgb.length), null);
    return new BufferedImage(RGB, raster, false, null);
  }

  /** Whether {@code image}'s pixels are the array {@code rgb} (an {@link #image} of it). */
  static boolean isBackedBy(BufferedImage image, byte[] rgb) {
    return image.getRaster().getDataBuffer() instanceof DataBufferByte bytes && bytes.getData() == rgb;
  }

  /** The image's pixels as interleaved 8-bit RGB, row-major, in an array from {@code buffers}. */
  static byte[] of(BufferedImage image, PixelBuffers buffers) {
    byte[] rgb = buffers.take(3 * image.getWidth() * image.getHeight());
    copy(image, rgb);
    return rgb;
  }

  /**
   * {@code image} as the decoder hands a frame to the pipeline: 8-bit RGB, grey values copied as
   * they are (Java2D's {@code getRGB} and {@code drawImage} treat a grey image as linear and turn
   * 128 into 186), for tools that show one frame as the pipeline sees it ({@code explain}); {@code
   * image} itself when it is one already.
   */
  public static BufferedImage asFrame(BufferedImage image) {
    if (image.getColorModel() == RGB) { // made by image(): 8-bit RGB, interleaved, as is
      return image;
    }
    byte[] rgb = new byte[3 * image.getWidth() * image.getHeight()];
    copy(image, rgb);
    return image(rgb, image.getWidth(), image.getHeight());
  }

  /**
   * {@link #asFrame(BufferedImage)} of {@code image}, ImageIO's decoding of {@code encoded}, with
   * what the decoder takes from the bytes beyond that: a grey PNG's transparent grey over black
   * where ImageIO's image keeps it ({@link PngTransparentGrey}).
   */
  public static BufferedImage asFrame(BufferedImage image, byte[] encoded) {
    if (PngTransparentGrey.of(encoded) <= 0) {
      return asFrame(image); // none, or black already
    }
    byte[] rgb = new byte[3 * image.getWidth() * image.getHeight()];
    copy(image, rgb);
    PngTransparentGrey.putOverBlack(encoded, rgb);
    return image(rgb, image.getWidth(), image.getHeight());
  }

  /** Writes every byte of {@code rgb}: the image's pixels, as interleaved 8-bit RGB, row-major. */
  static void copy(BufferedImage image, byte[] rgb) {
    switch (image.getType()) {
      case BufferedImage.TYPE_3BYTE_BGR -> fromBgr(bytes(image), rgb);
      case BufferedImage.TYPE_INT_RGB -> fromInts(ints(image), rgb);
      case BufferedImage.TYPE_INT_ARGB -> fromArgb(ints(image), rgb);
      case BufferedImage.TYPE_BYTE_GRAY -> fromGray(bytes(image), rgb);
      default -> {
        if (isGrey(image.getColorModel())) {
          fromGreyRaster(image, rgb);
        } else if (isPlainCmyk(image)) {
          fromCmyk(image.getRaster(), rgb);
        } else {
          fromBgr(bytes(redraw(image)), rgb);
        }
      }
    }
  }

  /**
   * A TYPE_3BYTE_BGR copy of {@code rgb} ({@code width}×{@code height}), the image {@link #resize}
   * is given: Java2D scales that type with its own loops, and an {@link #image} over the array (a
   * custom layout) through the generic path, five times slower (640x480 to 224x224: about 1 ms
   * against 5).
   */
  static BufferedImage bgrImage(byte[] rgb, int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    byte[] bgr = bytes(image);
    for (int i = 0, n = 3 * width * height; i < n; i += 3) {
      bgr[i] = rgb[i + 2];
      bgr[i + 1] = rgb[i + 1];
      bgr[i + 2] = rgb[i];
    }
    return image;
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

  /**
   * Over black, as the redraw puts every other image with alpha (an RGBA PNG): a 32-bit BMP's
   * transparent pixels kept their colours, so one picture classified by its format.
   */
  private static void fromArgb(int[] argb, byte[] rgb) {
    for (int p = 0, i = 0; p < argb.length; p++, i += 3) {
      int v = argb[p];
      int a = v >>> 24;
      rgb[i] = (byte) over(v >> 16, a);
      rgb[i + 1] = (byte) over(v >> 8, a);
      rgb[i + 2] = (byte) over(v, a);
    }
  }

  /** The low 8 bits of {@code channel} at opacity {@code alpha} (0-255) over black, rounded. */
  private static int over(int channel, int alpha) {
    return ((channel & 0xff) * alpha + 127) / 255;
  }

  private static void fromGray(byte[] gray, byte[] rgb) {
    for (int p = 0, i = 0; p < gray.length; p++, i += 3) {
      rgb[i] = gray[p];
      rgb[i + 1] = gray[p];
      rgb[i + 2] = gray[p];
    }
  }

  /**
   * A grey image other than {@code TYPE_BYTE_GRAY}: PNG's 16-bit grey, and grey with alpha. Java2D
   * would treat its grey as linear as well and brighten it (128 to 186), so it is not redrawn.
   */
  private static boolean isGrey(ColorModel cm) {
    int transfer = cm.getTransferType();
    return cm instanceof ComponentColorModel
        && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
        && cm.getNumColorComponents() == 1
        && (transfer == DataBuffer.TYPE_BYTE || transfer == DataBuffer.TYPE_USHORT);
  }

  /**
   * A grey image's values as they are, scaled to 8 bits; alpha, where there is one, applied over
   * black, as the redraw applies an RGBA PNG's ({@code TYPE_4BYTE_ABGR}: 200 at alpha 128 gives
   * 100), so that a PNG's transparency means the same in grey and in colour.
   */
  private static void fromGreyRaster(BufferedImage image, byte[] rgb) {
    ColorModel cm = image.getColorModel();
    Raster raster = image.getRaster();
    boolean alpha = cm.hasAlpha() && !cm.isAlphaPremultiplied();
    int bands = raster.getNumBands();
    long greyMax = (1L << cm.getComponentSize(0)) - 1;
    long alphaMax = alpha ? (1L << cm.getComponentSize(1)) - 1 : 1;
    long scale = greyMax * alphaMax;
    int width = image.getWidth();
    int[] row = new int[bands * width];
    for (int y = 0, i = 0; y < image.getHeight(); y++) {
      raster.getPixels(0, y, width, 1, row);
      for (int s = 0; s < row.length; s += bands, i += 3) {
        long weighted = (long) row[s] * (alpha ? row[s + 1] : 1);
        byte v = (byte) ((255 * weighted + scale / 2) / scale);
        rgb[i] = v;
        rgb[i + 1] = v;
        rgb[i + 2] = v;
      }
    }
  }

  /**
   * A CMYK JPEG without a colour profile (the reader gives 8-bit C, M, Y, K bands, Adobe's inversion
   * undone). Java2D's redraw took the JDK's CMYK colour space for linear light and brightened every
   * mid-tone (K 128 became 187); one with a profile is converted through it, by the redraw.
   */
  private static boolean isPlainCmyk(BufferedImage image) {
    ColorModel cm = image.getColorModel();
    return cm.getColorSpace().getType() == ColorSpace.TYPE_CMYK
        && !(cm.getColorSpace() instanceof ICC_ColorSpace)
        && !cm.hasAlpha()
        && image.getRaster().getNumBands() == 4
        && image.getRaster().getTransferType() == DataBuffer.TYPE_BYTE;
  }

  /** As Pillow converts CMYK, which torchvision's loader uses: each of R, G, B is 255 - K - C (M, Y), at least 0. */
  private static void fromCmyk(Raster raster, byte[] rgb) {
    int width = raster.getWidth();
    int[] row = new int[4 * width];
    for (int y = 0, i = 0; y < raster.getHeight(); y++) {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
      for (int s = 0; s < row.length; s += 4, i += 3) {
        int white = 255 - row[s + 3];
        rgb[i] = (byte) Math.max(0, white - row[s]);
        rgb[i + 1] = (byte) Math.max(0, white - row[s + 1]);
        rgb[i + 2] = (byte) Math.max(0, white - row[s + 2]);
      }
    }
  }

  /** Any other layout (palette, 16-bit colour, alpha over a background): let Java2D convert it. */
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
