package dev.gapstream.synth;

import dev.gapstream.GapstreamException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * One generated frame: an RGB image ({@link BufferedImage#TYPE_INT_RGB}) holding a single object,
 * its class index into {@link SyntheticFrames#LABELS}, and the object's bounding box in pixels. The
 * image is shared, not copied: callers must not draw on it.
 */
public record SyntheticFrame(BufferedImage image, int label, Box box) {

  public String labelName() {
    return SyntheticFrames.LABELS.get(label);
  }

  public int width() {
    return image.getWidth();
  }

  public int height() {
    return image.getHeight();
  }

  /**
   * Encodes the image with ImageIO's default settings ({@code "png"} or {@code "jpeg"}/{@code
   * "jpg"}, default quality). Encoding is deterministic, so equal frames give equal bytes.
   */
  public byte[] encode(String format) {
    String f = format.toLowerCase(Locale.ROOT);
    if (!f.equals("png") && !f.equals("jpeg") && !f.equals("jpg")) {
      throw new IllegalArgumentException("format must be png or jpeg: " + format);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(width() * height());
    // In memory: ImageIO.write to an OutputStream goes through a temporary file per frame unless
    // told otherwise, and a signal's shutdown hook closes it under the writer.
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      if (!ImageIO.write(image, f, stream)) {
        throw new GapstreamException("no ImageIO writer for " + format);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
