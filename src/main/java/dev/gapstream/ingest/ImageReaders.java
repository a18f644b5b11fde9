package dev.gapstream.ingest;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;

/**
 * ImageIO readers kept per thread between frames. Looking a reader up and creating it (for JPEG,
 * with its native decoder state) costs about as much as decoding a small frame, so a decode worker
 * reuses one reader per format; a reader that failed on a frame is disposed of, never reused.
 *
 * <p>Each reader is confined to the thread that took it: {@link #take} removes it from that
 * thread's cache until {@link #giveBack}.
 */
final class ImageReaders {

  /** A reader and the warnings it reported on the current frame. */
  static final class Lease {
    final ImageReader reader;
    final List<String> warnings = new ArrayList<>(1);

    private Lease(ImageReader reader) {
      this.reader = reader;
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
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
