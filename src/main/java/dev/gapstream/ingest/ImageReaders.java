package dev.gapstream.ingest;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;

/**
 * ImageIO readers kept per thread between frames. Looking a reader up and creating it (for JPEG,
 * with its native decoder state) costs about as much as decoding a small frame, so a decode worker
 * reuses one reader per format; a reader that failed on a frame is disposed of, never reused.
 *
 * <p>Each reader is confined to the thread that took it: {@link #take} removes it from that
 * thread's cache until {@link #giveBack}.
 */
final class ImageReaders {

  /**
   * Formats whose ImageIO reader copies each decoded row into the destination through its raster,
   * so that an image of any 8-bit RGB layout gets correct pixels. The BMP reader writes its file's
   * BGR bytes into the destination's buffer as they are, whatever the layout.
   */
  private static final Set<ImageFormat> ROWS_COPIED = EnumSet.of(ImageFormat.JPEG, ImageFormat.PNG);

  /** A reader and the warnings it reported on the current frame. */
  static final class Lease {
    final ImageReader reader;
    final List<String> warnings = new ArrayList<>(1);
    private final boolean rowsCopied;

    private Lease(ImageReader reader, boolean rowsCopied) {
      this.reader = reader;
      this.rowsCopied = rowsCopied;
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
    }

    /**
     * Read parameters that decode the current input straight into {@code rgb} when the reader
     * would make an 8-bit sRGB colour image ({@code TYPE_3BYTE_BGR}: colour JPEGs and PNGs, the
     * common case). Into its own BGR image the JPEG reader went through the slow path of {@code
     * ByteInterleavedRaster.setRect}, sample by sample through a new array per row (150 KB of
     * garbage per 224×224 frame), and the pixels then had to be reordered into RGB; into an image
     * laid out as R, G, B each row is one {@code arraycopy}. Other layouts get the reader's own
     * image, copied into {@code rgb} afterwards.
     */
    ImageReadParam params(byte[] rgb, int width, int height) throws IOException {
      ImageReadParam param = reader.getDefaultReadParam();
      if (rowsCopied) {
        Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
        ImageTypeSpecifier type = types.hasNext() ? types.next() : null;
        if (type != null && type.getBufferedImageType() == BufferedImage.TYPE_3BYTE_BGR) {
          param.setDestination(RgbPixels.image(rgb, width, height));
        }
      }
      return param;
    }
  }

  private static final ThreadLocal<Map<ImageFormat, Lease>> CACHE =
      ThreadLocal.withInitial(() -> new EnumMap<>(ImageFormat.class));

  private ImageReaders() {}

  /** This thread's reader for {@code format}, or null when ImageIO has none. */
  static Lease take(ImageFormat format) {
    Lease lease = CACHE.get().remove(format);
    if (lease == null) {
      Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.imageIoName());
      if (!readers.hasNext()) {
        return null;
      }
      lease = new Lease(readers.next(), ROWS_COPIED.contains(format));
    }
    lease.warnings.clear();
    return lease;
  }

  /** Keeps a reader that decoded a frame cleanly for this thread's next frame. */
  static void giveBack(ImageFormat format, Lease lease) {
    lease.reader.setInput(null);
    CACHE.get().put(format, lease);
  }

  /** Drops a reader that failed: its state after malformed input is not to be trusted. */
  static void discard(Lease lease) {
    lease.reader.dispose();
  }
}
