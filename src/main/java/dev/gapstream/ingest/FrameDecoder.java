package dev.gapstream.ingest;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a frame's bytes into RGB pixels, or rejects it with a reason. Limits are checked before
 * any pixel is decompressed: the byte size first, then the dimensions read from the image header
 * (the area, the longer side, the size the model needs), so a decompression bomb never reaches
 * memory.
 *
 * <p>Thread-safe: called on decode worker threads, never on an event loop (decoding takes
 * milliseconds). Decoded pixels come from the decoder's {@link PixelBuffers}; a frame's {@link
 * DecodedFrame#release()} gives them back.
 */
public final class FrameDecoder {

  private static final Logger LOG = LoggerFactory.getLogger(FrameDecoder.class);

  /**
   * Parts of the reader warnings that mean pixels are missing or wrong. The JDK's {@code
   * "Truncated File - Missing EOI marker"}: the data ended before the image (after a libjpeg
   * warning it is the only one: libjpeg reports its first warning per image alone). libjpeg's: the
   * same from its own source ({@code "Premature end of JPEG file"}), a scan's data ending early
   * ({@code "Corrupt JPEG data: premature end of data segment"}), undecodable scan data ({@code
   * "bad Huffman code"}, {@code "bad arithmetic code"}), a restart marker lost ({@code "found
   * marker 0x.. instead of RST.."}). The JDK GIF reader's {@code "Out-of-sequence code!"}: LZW
   * codes that mean nothing, corrupt image data.
   */
  private static final List<String> PIXELS_LOST = List.of(
      "Missing EOI marker",
      "Premature end of JPEG file",
      "premature end of data segment",
      "bad Huffman code",
      "bad arithmetic code",
      "instead of RST",
      "Out-of-sequence code");

  /** What the JDK's readers throw where they have no image type for the data (JPEGImageReader). */
  private static final String UNSUPPORTED_IMAGE_TYPE = "Unsupported Image Type";

  /**
   * The longest side a frame may have, whatever its area: a JPEG's own limit. Decoding and scaling
   * hold a few rows' worth of memory, and a 16,777,216x1 PNG strip within {@code ingest.max.pixels}
   * took about 370 MB of it, kept by the decode thread (the scaler's row sums, the PNG reader's rows).
   */
  public static final int MAX_SIDE = 65_535;

  /**
   * The most scans a JPEG frame may have. Each scan of a progressive JPEG is a pass over every block
   * of the image, however few bytes it takes: a 1080p frame's cost 7 ms each here, so a frame of
   * thousands of near-empty scans ("EOB runs") would hold a decode thread for minutes, and its
   * partition's outputs behind it. Encoders write about 10 (libjpeg's progressive script: 10 for
   * colour); libjpeg-turbo's {@code -maxscans} guards against the same. A sequential JPEG whose
   * first scan holds every component is one scan; one whose first scan leaves some out
   * (non-interleaved, a scan per component: 3 or 4) takes any number after it, each a pass over
   * its component, even with no data (46 ms a scan of a 4096x4096 frame here).
   */
  static final int MAX_JPEG_SCANS = 100;

  private final DecodeLimits limits;
  private final PixelBuffers buffers;

  /** A decoder that keeps no pixel arrays: each frame gets a new one. */
  public FrameDecoder(DecodeLimits limits) {
    this(limits, new PixelBuffers(0));
  }

  public FrameDecoder(DecodeLimits limits, PixelBuffers buffers) {
    this.limits = limits;
    this.buffers = buffers;
  }

  public DecodeLimits limits() {
    return limits;
  }

  /**
   * Decodes one frame.
   *
   * @param data the record's value; may be null (a tombstone) or empty, which is rejected
   * @param contentType the {@code content-type} header, or null to detect the format from the data
   * @param width the {@code width} header, needed for raw RGB only; null when absent
   * @param height the {@code height} header, needed for raw RGB only; null when absent
   * @throws FrameRejectedException with the reason the frame goes to the dead-letter topic
   */
  public DecodedFrame decode(byte[] data, String contentType, Integer width, Integer height) {
    if (data == null || data.length == 0) {
      throw new FrameRejectedException(RejectReason.DECODE_ERROR, "empty frame: the value has no bytes");
    }
    if (data.length > limits.maxFrameBytes()) {
      throw new FrameRejectedException(
          RejectReason.TOO_LARGE,
          "frame of " + data.length + " bytes exceeds ingest.max.frame.bytes=" + limits.maxFrameBytes());
    }
    ImageFormat format = formatOf(data, contentType);
    DecodedFrame frame =
        format == ImageFormat.RAW_RGB ? raw(data, width, height) : encoded(data, format);
    return fitted(frame);
  }

  private static ImageFormat formatOf(byte[] data, String contentType) {
    if (contentType != null && !contentType.isBlank()) {
      ImageFormat format = ImageFormat.fromContentType(contentType);
      if (format == null) {
        throw new FrameRejectedException(
            RejectReason.UNSUPPORTED_FORMAT, "content-type '" + contentType + "' is not supported");
      }
      return format;
    }
    ImageFormat sniffed = ImageFormat.sniff(data);
    if (sniffed == null) {
      throw new FrameRejectedException(
          RejectReason.UNSUPPORTED_FORMAT,
          "no content-type header and the data is not JPEG, PNG, BMP or GIF");
    }
    return sniffed;
  }

  private DecodedFrame raw(byte[] data, Integer width, Integer height) {
    if (width == null || height == null) {
      throw new FrameRejectedException(
          RejectReason.BAD_SHAPE, "raw RGB frame needs 'width' and 'height' headers");
    }
    if (width <= 0 || height <= 0) {
      throw new FrameRejectedException(
          RejectReason.BAD_SHAPE, "raw RGB frame has non-positive size " + width + "x" + height);
    }
    checkSize(width, height);
    long expected = 3L * width * height;
    if (data.length != expected) {
      throw new FrameRejectedException(
          RejectReason.BAD_SHAPE,
          "raw RGB frame " + width + "x" + height + " needs " + expected + " bytes, got " + data.length);
    }
    // The record's own bytes, not pooled: a dead letter may still carry them.
    return new DecodedFrame(width, height, data);
  }

  private DecodedFrame encoded(byte[] data, ImageFormat format) {
    if (format == ImageFormat.BMP) {
      refuseWrappedImage(data);
    }
    byte[] input = format == ImageFormat.JPEG ? jpegInput(data) : data;
    ImageReaders.Lease lease = ImageReaders.take(format);
    if (lease == null) {
      throw new FrameRejectedException(RejectReason.UNSUPPORTED_FORMAT, "no reader for " + format);
    }
    boolean clean = false;
    byte[] rgb = null;
    try (ImageInputStream in = new ByteArrayImageInputStream(input)) {
      ImageReader reader = lease.reader;
      reader.setInput(in, true, true);
      int width = reader.getWidth(0);
      int height = reader.getHeight(0);
      checkSize(width, height);
      rgb = buffers.take(3 * width * height);
      BufferedImage image = reader.read(0, lease.params(rgb, width, height));
      checkWarnings(format, lease.warnings);
      clean = true;
      if (!RgbPixels.isBackedBy(image, rgb)) {
        RgbPixels.copy(image, rgb);
      }
      if (format == ImageFormat.PNG) {
        // Before any scaling, while each pixel still has its stored grey.
        PngTransparentGrey.putOverBlack(data, rgb);
      }
      DecodedFrame frame = new DecodedFrame(width, height, rgb, buffers);
      rgb = null; // the frame's now
      return frame;
    } catch (FrameRejectedException e) {
      throw e;
    } catch (IIOException e) {
      if (UNSUPPORTED_IMAGE_TYPE.equals(e.getMessage())) {
        throw new FrameRejectedException(RejectReason.UNSUPPORTED_FORMAT, unsupportedColours(data, format), e);
      }
      throw new FrameRejectedException(RejectReason.DECODE_ERROR, format + " is corrupt: " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      // ImageIO's readers throw unchecked exceptions (index, array, arithmetic) on malformed input.
      throw new FrameRejectedException(
          RejectReason.DECODE_ERROR, format + " could not be decoded: " + e, e);
    } finally {
      if (rgb != null) {
        buffers.giveBack(rgb);
      }
      if (clean) {
        ImageReaders.giveBack(format, lease);
      } else {
        ImageReaders.discard(lease);
      }
    }
  }

  /**
   * A JPEG as the reused reader must get it: with the standard Huffman tables where it has none or
   * not all its first scan uses (a Motion-JPEG frame), and rejected where it lacks a quantisation
   * table its first scan uses, or where a later scan uses a Huffman table it does not define (the
   * reader would take the frame before's; a lossless JPEG has no quantisation table, and ImageIO
   * says it does not read those). See {@link JpegSegments}.
   */
  private static byte[] jpegInput(byte[] jpeg) {
    JpegSegments.Header header = JpegSegments.read(jpeg);
    if (header.lacksQuantisationTables()) {
      throw new FrameRejectedException(RejectReason.DECODE_ERROR, header.quantisationTables()
          ? "JPEG does not define quantisation table " + header.undefinedQuantisationTable()
              + " (DQT), which its first scan uses, before it"
          : "JPEG defines no quantisation table (DQT) before its first scan");
    }
    byte[] input = JpegSegments.withStandardHuffmanTables(jpeg, header);
    // Not walked where it cannot have several (a baseline frame's one scan: the common case).
    if (header.hasMultipleScans()) {
      JpegSegments.Scans scans = JpegSegments.walkScans(input, MAX_JPEG_SCANS);
      if (scans.count() > MAX_JPEG_SCANS) {
        throw new FrameRejectedException(
            RejectReason.TOO_LARGE, "JPEG has more than " + MAX_JPEG_SCANS + " scans (encoders write about 10 at"
                + " most): each takes a pass over the whole image");
      }
      if (scans.undefinedHuffmanTable() != null) {
        throw new FrameRejectedException(
            RejectReason.DECODE_ERROR, "JPEG's " + scans.undefinedHuffmanTable() + ", which no DHT defines before it");
      }
    }
    return input;
  }

  /**
   * Refuses a BMP that wraps a JPEG or PNG (compression 4 or 5 in a Windows header of 40 bytes or
   * more). The JDK's reader allocates the size the header claims for the wrapped image before it
   * reads a byte of it, so 70 bytes could ask for 2 GiB: an OutOfMemoryError, not a rejection.
   * Cameras send the JPEG or PNG itself.
   */
  private static void refuseWrappedImage(byte[] bmp) {
    ByteBuffer header = ByteBuffer.wrap(bmp).order(ByteOrder.LITTLE_ENDIAN);
    if (bmp.length < 34 || header.getInt(14) < 40) {
      return; // too short for the field (the reader rejects it), or an OS/2 header, which has none
    }
    int compression = header.getInt(30);
    if (compression == 4 || compression == 5) {
      String wrapped = compression == 4 ? "JPEG" : "PNG";
      throw new FrameRejectedException(
          RejectReason.UNSUPPORTED_FORMAT,
          "BMP wrapping a " + wrapped + " (compression " + compression + ") is not supported: send the "
              + wrapped + " itself");
    }
  }

  /**
   * Rejects a frame whose reader warned that pixels are missing or wrong: ImageIO decodes a
   * truncated or corrupt JPEG with a warning and grey pixels. Other warnings leave the pixels whole
   * (libjpeg's extraneous bytes before a marker, an invalid embedded colour profile, the PNG
   * reader's ignored chunks) and are logged at debug only.
   */
  private static void checkWarnings(ImageFormat format, List<String> warnings) {
    for (String warning : warnings) {
      if (PIXELS_LOST.stream().anyMatch(warning::contains)) {
        throw new FrameRejectedException(RejectReason.DECODE_ERROR, format + " decoded with errors: " + warning);
      }
    }
    for (String warning : warnings) {
      LOG.debug("{} frame decoded whole despite a warning: {}", format, warning);
    }
  }

  /**
   * Why ImageIO made no image of a frame whose header it read: a colour space it has no RGB for. A
   * JPEG's is told by its number of components: older JDK 17 builds read no CMYK or YCCK JPEG (four
   * components), and none reads two.
   */
  private static String unsupportedColours(byte[] data, ImageFormat format) {
    int components = format == ImageFormat.JPEG ? JpegSegments.components(data) : -1;
    return (components < 0 ? format + " has a colour space" : format + " has " + components + " colour components")
        + " that this JDK's ImageIO does not convert to RGB (it reads 1: grey, 3: YCbCr or RGB; and 4:"
        + " CMYK or YCCK where the JDK is recent enough)";
  }

  /**
   * Rejects a frame by the size its header gives, before a pixel is decoded: too many pixels, a side
   * too long, or too small for the model once scaled (a strip 1 pixel high ends up 256x1).
   */
  private void checkSize(int width, int height) {
    if ((long) width * height > limits.maxPixels()) {
      throw new FrameRejectedException(
          RejectReason.TOO_LARGE,
          "frame of " + width + "x" + height + " exceeds ingest.max.pixels=" + limits.maxPixels());
    }
    if (Math.max(width, height) > MAX_SIDE) {
      throw new FrameRejectedException(
          RejectReason.TOO_LARGE,
          "frame of " + width + "x" + height + " has a side longer than " + MAX_SIDE + " pixels");
    }
    if (limits.fixedWidth() > 0) {
      return; // resized to the model's input, whatever its shape
    }
    int[] scaled = limits.maxSide() > 0 ? AreaDownscale.fit(width, height, limits.maxSide()) : new int[] {width, height};
    if (scaled[0] < limits.minWidth() || scaled[1] < limits.minHeight()) {
      String size = scaled[0] == width && scaled[1] == height
          ? width + "x" + height
          : width + "x" + height + " (" + scaled[0] + "x" + scaled[1]
              + " at ingest.resize.max.side=" + limits.maxSide() + ")";
      throw new FrameRejectedException(
          RejectReason.BAD_SHAPE,
          "frame of " + size + " is smaller than the model's minimum " + limits.minWidth() + "x" + limits.minHeight());
    }
  }

  /**
   * Applies the size rules: a fixed-size model's resize; for any-size models, the downscale to
   * {@code ingest.resize.max.side}.
   */
  private DecodedFrame fitted(DecodedFrame frame) {
    if (limits.fixedWidth() > 0) {
      if (frame.width() == limits.fixedWidth() && frame.height() == limits.fixedHeight()) {
        return frame;
      }
      return resized(frame, limits.fixedWidth(), limits.fixedHeight());
    }
    // checkSize turned away frames too small for the model at their scaled size.
    return limits.maxSide() > 0 ? downscaled(frame, limits.maxSide()) : frame;
  }

  /** The frame with its longer side at most {@code maxSide}, by area averaging; itself if it fits. */
  private DecodedFrame downscaled(DecodedFrame frame, int maxSide) {
    if (Math.max(frame.width(), frame.height()) <= maxSide) {
      return frame;
    }
    int[] size = AreaDownscale.fit(frame.width(), frame.height(), maxSide);
    return areaScaled(frame, size[0], size[1]);
  }

  /** The frame scaled down to {@code width}x{@code height} by area averaging, in pooled pixels. */
  private DecodedFrame areaScaled(DecodedFrame frame, int width, int height) {
    byte[] rgb = buffers.take(3 * width * height);
    AreaDownscale.scale(frame.rgb(), frame.width(), frame.height(), rgb, width, height);
    frame.release();
    return new DecodedFrame(width, height, rgb, buffers);
  }

  /**
   * The frame at a fixed-size model's input size: by area averaging where neither side grows (a
   * camera frame to 224x224; bilinear filtering reads 4 source pixels an output pixel and aliases
   * past a halving), else by bilinear filtering, after area averaging the side that shrinks, if one
   * does (a 1920x200 strip to 224x224: bilinear alone aliased its width).
   */
  private DecodedFrame resized(DecodedFrame frame, int width, int height) {
    if (width <= frame.width() && height <= frame.height()) {
      return areaScaled(frame, width, height);
    }
    if (width < frame.width() || height < frame.height()) {
      frame = areaScaled(frame, Math.min(width, frame.width()), Math.min(height, frame.height()));
    }
    BufferedImage src = RgbPixels.bgrImage(frame.rgb(), frame.width(), frame.height());
    frame.release();
    BufferedImage scaled = RgbPixels.resize(src, width, height);
    return new DecodedFrame(width, height, RgbPixels.of(scaled, buffers), buffers);
  }
}
