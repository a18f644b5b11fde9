package dev.gapstream.live;

import dev.gapstream.inference.CamOverlay;
import dev.gapstream.inference.ClassActivationMap;
import dev.gapstream.ingest.RgbPixels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Turns a sampled frame into the thumbnail the page shows: the pixels scaled so the longer side is
 * {@link #THUMBNAIL_SIDE} (up or down, so small and large frames look alike on the page), the class
 * activation map drawn over it, JPEG-encoded. Costs a few milliseconds: run it on the live view's
 * render thread, never on an inference worker or an event loop. Stateless and thread safe.
 */
final class FrameRenderer {
  static final int THUMBNAIL_SIDE = 224;

  /** The longer side a frame's copy keeps at least: twice the thumbnail's, to scale down smoothly. */
  static final int COPY_SIDE = 2 * THUMBNAIL_SIDE;
  private static final float JPEG_QUALITY = 0.8f;

  private FrameRenderer() {}

  /** A frame's pixels, interleaved 8-bit RGB, row-major, as the render thread gets them. */
  record Pixels(int width, int height, byte[] rgb) {}

  /**
   * A private copy of a frame's pixels, taken on the inference worker: whole up to {@link
   * #COPY_SIDE} on the longer side, above it every k-th pixel of every k-th row, k the largest
   * step that leaves the longer side at least {@code COPY_SIDE}. A 4K frame's copy is 480×270,
   * 0.4 MB instead of 25, four times a second; the thumbnail is scaled smoothly from it.
   */
  static Pixels copy(int width, int height, byte[] rgb) {
    // ceil(longer / step) >= COPY_SIDE for the largest such step. Frames up to 894 px are copied
    // whole (up to 2.4 MB: no step of 2 keeps COPY_SIDE); longer / COPY_SIDE, rounded down, gave
    // some lengths a step one short, e.g. 895 px copied whole.
    int step = Math.max(1, (Math.max(width, height) - 1) / (COPY_SIDE - 1));
    if (step == 1) {
      return new Pixels(width, height, Arrays.copyOf(rgb, 3 * width * height));
    }
    int w = (width + step - 1) / step;
    int h = (height + step - 1) / step;
    byte[] out = new byte[3 * w * h];
    for (int y = 0, o = 0; y < h; y++) {
      for (int x = 0, i = 3 * y * step * width; x < w; x++, i += 3 * step, o += 3) {
        out[o] = rgb[i];
        out[o + 1] = rgb[i + 1];
        out[o + 2] = rgb[i + 2];
      }
    }
    return new Pixels(w, h, out);
  }

  /** The thumbnail as JPEG bytes. {@code cam} may be null (the caption-less frame only). */
  static byte[] render(Pixels pixels, ClassActivationMap cam) {
    BufferedImage frame = toImage(pixels.width(), pixels.height(), pixels.rgb());
    BufferedImage overlay = CamOverlay.render(scale(frame), cam, null);
    return jpeg(overlay);
  }

  static BufferedImage toImage(int width, int height, byte[] rgb) {
    int[] packed = new int[width * height];
    for (int i = 0, j = 0; i < packed.length; i++, j += 3) {
      packed[i] = (rgb[j] & 0xff) << 16 | (rgb[j + 1] & 0xff) << 8 | (rgb[j + 2] & 0xff);
    }
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    image.setRGB(0, 0, width, height, packed, 0, width);
    return image;
  }

  private static BufferedImage scale(BufferedImage frame) {
    double factor = (double) THUMBNAIL_SIDE / Math.max(frame.getWidth(), frame.getHeight());
    int w = Math.max(1, (int) Math.round(frame.getWidth() * factor));
    int h = Math.max(1, (int) Math.round(frame.getHeight() * factor));
    if (w == frame.getWidth() && h == frame.getHeight()) {
      return frame;
    }
    return RgbPixels.scaled(frame, w, h, BufferedImage.TYPE_INT_RGB);
  }

  private static byte[] jpeg(BufferedImage image) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 * 1024);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(JPEG_QUALITY);
      writer.setOutput(out);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }
}
