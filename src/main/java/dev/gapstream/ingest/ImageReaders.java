package dev.gapstream.ingest;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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

  /** A reader, the warnings it reported on the current frame, and an image to decode into. */
  static final class Lease {
    final ImageReader reader;
    final List<String> warnings = new ArrayList<>(1);
    private BufferedImage destination;

    private Lease(ImageReader reader) {
      this.reader = reader;
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
    }

    /**
     * Read parameters that decode the current input into this lease's image when the reader would
     * create a {@code TYPE_3BYTE_BGR} image of the same size anyway (a colour JPEG, the common
     * case): its pixels are copied out before the next frame, so one image per thread serves
     * every frame of a size instead of a new one per frame. Other layouts get the reader's own.
     * The image stays allocated between frames: one frame's worth per decode thread.
     */
    ImageReadParam params(int width, int height) throws IOException {
      ImageReadParam param = reader.getDefaultReadParam();
      Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
      ImageTypeSpecifier type = types.hasNext() ? types.next() : null;
      if (type == null || type.getBufferedImageType() != BufferedImage.TYPE_3BYTE_BGR) {
        return param;
      }
      if (destination == null || destination.getWidth() != width || destination.getHeight() != height) {
        destination = type.createBufferedImage(width, height);
      }
      param.setDestination(destination);
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
      lease = new Lease(readers.next());
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
