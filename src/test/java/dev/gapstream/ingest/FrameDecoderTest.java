package dev.gapstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.plugins.jpeg.JPEGHuffmanTable;
import javax.imageio.plugins.jpeg.JPEGImageWriteParam;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FrameDecoderTest {

  private static final DecodeLimits LIMITS = new DecodeLimits(1 << 20, 1 << 20, 32, 32, 0, 0);
  private final FrameDecoder decoder = new FrameDecoder(LIMITS);

  /** 64x48: left half pure red, right half pure blue (survives JPEG well enough to check). */
  static BufferedImage picture() {
    BufferedImage image = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.RED);
    g.fillRect(0, 0, 32, 48);
    g.setColor(Color.BLUE);
    g.fillRect(32, 0, 32, 48);
    g.dispose();
    return image;
  }

  /** Random pixels: every channel of every pixel differs from its neighbours'. */
  static BufferedImage noise(int width, int height, long seed) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(seed);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    return image;
  }

  static byte[] encode(BufferedImage image, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(image, format, out)).isTrue();
    return out.toByteArray();
  }

  private static int[] rgbAt(DecodedFrame frame, int x, int y) {
    int i = 3 * (y * frame.width() + x);
    byte[] p = frame.rgb();
    return new int[] {p[i] & 0xff, p[i + 1] & 0xff, p[i + 2] & 0xff};
  }

  @ParameterizedTest
  @ValueSource(strings = {"png", "jpeg", "bmp", "gif"})
  void decodesEachFormatByContentTypeAndBySniffing(String format) throws IOException {
    byte[] bytes = encode(picture(), format);
    for (String contentType : new String[] {"image/" + format, null}) {
      DecodedFrame frame = decoder.decode(bytes, contentType, null, null);
      assertThat(frame.width()).isEqualTo(64);
      assertThat(frame.height()).isEqualTo(48);
      int[] left = rgbAt(frame, 8, 24);
      int[] right = rgbAt(frame, 56, 24);
      assertThat(left[0]).as("red channel on the left").isGreaterThan(200);
      assertThat(left[2]).isLessThan(60);
      assertThat(right[2]).as("blue channel on the right").isGreaterThan(200);
      assertThat(right[0]).isLessThan(60);
    }
  }

  /**
   * Colour JPEGs and PNGs decode straight into the frame's array, laid out as RGB; the other
   * formats are copied from the reader's own image. Either way every pixel must be what ImageIO's
   * own image of the same bytes holds: a channel order mixed up anywhere (the BMP reader, given
   * such an array, writes its BGR bytes unchanged) fails here.
   */
  @ParameterizedTest
  @ValueSource(strings = {"png", "jpeg", "bmp", "gif"})
  void everyPixelIsWhatImageIoReads(String format) throws IOException {
    byte[] bytes = encode(noise(61, 37, format.hashCode()), format);
    BufferedImage expected = ImageIO.read(new ByteArrayInputStream(bytes));

    DecodedFrame frame = new FrameDecoder(LIMITS, new PixelBuffers(1 << 20)).decode(bytes, null, null, null);

    for (int y = 0; y < expected.getHeight(); y++) {
      for (int x = 0; x < expected.getWidth(); x++) {
        int rgb = expected.getRGB(x, y);
        assertThat(rgbAt(frame, x, y))
            .as("%s pixel (%d, %d)", format, x, y)
            .containsExactly((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff);
      }
    }
  }

  @Test
  void pngIsLossless() throws IOException {
    DecodedFrame frame = decoder.decode(encode(picture(), "png"), "image/png", null, null);
    assertThat(rgbAt(frame, 0, 0)).containsExactly(255, 0, 0);
    assertThat(rgbAt(frame, 63, 47)).containsExactly(0, 0, 255);
  }

  @Test
  void decodesRawRgbWithItsHeaders() {
    byte[] raw = new byte[3 * 40 * 35];
    raw[0] = 10;
    raw[1] = 20;
    raw[2] = 30;
    DecodedFrame frame = decoder.decode(raw, "image/x-raw-rgb", 40, 35);
    assertThat(frame.width()).isEqualTo(40);
    assertThat(frame.height()).isEqualTo(35);
    assertThat(rgbAt(frame, 0, 0)).containsExactly(10, 20, 30);
  }

  @Test
  void rawRgbWhoseSizeDoesNotMatchItsHeadersIsABadShape() {
    assertRejected(() -> decoder.decode(new byte[100], "image/x-raw-rgb", 40, 35), RejectReason.BAD_SHAPE, "needs 4200 bytes");
    assertRejected(() -> decoder.decode(new byte[100], "image/x-raw-rgb", null, 35), RejectReason.BAD_SHAPE, "'width' and 'height'");
  }

  @Test
  void emptyOrUnknownDataIsRejected() {
    assertRejected(() -> decoder.decode(new byte[0], null, null, null), RejectReason.DECODE_ERROR, "empty");
    assertRejected(() -> decoder.decode(null, null, null, null), RejectReason.DECODE_ERROR, "empty");
    assertRejected(() -> decoder.decode("hello".getBytes(), null, null, null), RejectReason.UNSUPPORTED_FORMAT, "not JPEG");
    assertRejected(() -> decoder.decode(new byte[] {1, 2, 3}, "image/webp", null, null), RejectReason.UNSUPPORTED_FORMAT, "image/webp");
  }

  /**
   * A decode thread reuses one image per size for colour JPEGs: each frame must still get its own
   * pixels, the earlier frame's left as they were, and a truncated frame in between, or a
   * greyscale JPEG of the same size (another layout), must not leave anything behind.
   */
  @Test
  void consecutiveJpegsOfOneSizeEachGetTheirOwnPixels() throws IOException {
    BufferedImage mirrored = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = mirrored.createGraphics();
    g.drawImage(picture(), 64, 0, -64, 48, null);
    g.dispose();
    BufferedImage grey = new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D gg = grey.createGraphics();
    gg.setColor(Color.WHITE);
    gg.fillRect(0, 0, 64, 48);
    gg.dispose();
    byte[] redLeft = encode(picture(), "jpeg");

    DecodedFrame first = decoder.decode(redLeft, "image/jpeg", null, null);
    byte[] firstPixels = first.rgb().clone();
    assertRejected(() -> decoder.decode(Arrays.copyOf(redLeft, redLeft.length / 2), "image/jpeg", null, null), RejectReason.DECODE_ERROR, "JPEG");
    DecodedFrame second = decoder.decode(encode(mirrored, "jpeg"), "image/jpeg", null, null);
    DecodedFrame third = decoder.decode(encode(grey, "jpeg"), "image/jpeg", null, null);
    DecodedFrame fourth = decoder.decode(redLeft, "image/jpeg", null, null);

    assertThat(first.rgb()).isEqualTo(firstPixels);
    assertThat(rgbAt(first, 8, 24)[0]).as("first: red on the left").isGreaterThan(200);
    assertThat(rgbAt(second, 8, 24)[2]).as("second: blue on the left").isGreaterThan(200);
    assertThat(rgbAt(second, 56, 24)[0]).as("second: red on the right").isGreaterThan(200);
    assertThat(Arrays.stream(rgbAt(third, 8, 24)).min().getAsInt()).as("third: white").isGreaterThan(240);
    assertThat(Arrays.stream(rgbAt(third, 56, 24)).min().getAsInt()).as("third: white").isGreaterThan(240);
    assertThat(fourth.rgb()).isEqualTo(firstPixels);
  }

  /**
   * Released pixels go to the next frame of the size, which must overwrite all of them: a
   * greyscale frame after a colour one, a mirrored one after the original, each as a decoder
   * without reuse decodes it.
   */
  @Test
  void releasedPixelsAreReusedAndFullyOverwritten() throws IOException {
    PixelBuffers buffers = new PixelBuffers(1 << 20);
    FrameDecoder pooled = new FrameDecoder(LIMITS, buffers);
    FrameDecoder fresh = new FrameDecoder(LIMITS, new PixelBuffers(0));
    BufferedImage mirrored = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = mirrored.createGraphics();
    g.drawImage(picture(), 64, 0, -64, 48, null);
    g.dispose();
    BufferedImage grey = new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_GRAY);
    byte[][] frames = {
      encode(picture(), "jpeg"), encode(grey, "jpeg"), encode(mirrored, "png"), encode(picture(), "bmp")
    };

    DecodedFrame previous = pooled.decode(frames[0], null, null, null);
    for (int i = 1; i < frames.length; i++) {
      byte[] array = previous.rgb();
      previous.release();
      assertThat(buffers.keptBytes()).isEqualTo(3 * 64 * 48);
      DecodedFrame next = pooled.decode(frames[i], null, null, null);
      assertThat(next.rgb()).as("frame %d reuses the array", i).isSameAs(array);
      assertThat(next.rgb()).as("frame %d's pixels", i).isEqualTo(fresh.decode(frames[i], null, null, null).rgb());
      previous = next;
    }
    assertThat(buffers.keptBytes()).isZero();
  }

  /**
   * A frame that fails while its pixels are decoded (the header read, the array taken, the data
   * cut short) gives back the array it was being decoded into.
   */
  @Test
  void aFrameThatFailsGivesItsArrayBack() throws IOException {
    PixelBuffers buffers = new PixelBuffers(1 << 20);
    FrameDecoder pooled = new FrameDecoder(LIMITS, buffers);
    byte[] jpeg = encode(noise(64, 48, 7), "jpeg");

    assertRejected(() -> pooled.decode(Arrays.copyOf(jpeg, jpeg.length - 200), "image/jpeg", null, null), RejectReason.DECODE_ERROR, "decoded with errors");

    assertThat(buffers.keptBytes()).isEqualTo(3 * 64 * 48);
    assertThat(pooled.decode(jpeg, "image/jpeg", null, null).rgb())
        .isEqualTo(decoder.decode(jpeg, "image/jpeg", null, null).rgb());
    assertThat(buffers.keptBytes()).isZero();
  }

  /** A raw frame's pixels are the record's own bytes, which a dead letter may carry: never reused. */
  @Test
  void rawFramesAreNotPooled() {
    PixelBuffers buffers = new PixelBuffers(1 << 20);
    FrameDecoder pooled = new FrameDecoder(LIMITS, buffers);
    byte[] raw = new byte[3 * 40 * 35];
    DecodedFrame frame = pooled.decode(raw, "image/x-raw-rgb", 40, 35);
    assertThat(frame.rgb()).isSameAs(raw);
    frame.release();
    assertThat(buffers.keptBytes()).isZero();
  }

  /** Resizing for a fixed-size model gives the decoded array back at once; the resized one is pooled. */
  @Test
  void resizingGivesTheDecodedPixelsBack() throws IOException {
    PixelBuffers buffers = new PixelBuffers(1 << 20);
    FrameDecoder fixed = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 0, 0, 32, 16), buffers);
    DecodedFrame frame = fixed.decode(encode(picture(), "png"), null, null, null);
    assertThat(buffers.keptBytes()).isEqualTo(3 * 64 * 48);
    frame.release();
    assertThat(buffers.keptBytes()).isEqualTo(3 * 64 * 48 + 3 * 32 * 16);
  }

  @Test
  void truncatedOrCorruptImagesAreDecodeErrors() throws IOException {
    byte[] jpeg = encode(picture(), "jpeg");
    assertRejected(() -> decoder.decode(Arrays.copyOf(jpeg, jpeg.length / 2), "image/jpeg", null, null), RejectReason.DECODE_ERROR, "JPEG");
    byte[] png = encode(picture(), "png");
    assertRejected(() -> decoder.decode(Arrays.copyOf(png, 40), "image/png", null, null), RejectReason.DECODE_ERROR, "PNG");
  }

  /**
   * A progressive JPEG's scans each take a pass over the whole image, however few bytes they hold,
   * so a frame of thousands held a decode thread for minutes (a 1080p one, 7 ms a scan here). One
   * with more than {@link FrameDecoder#MAX_JPEG_SCANS} is refused before decoding; an encoder's 10
   * decode, and so do 100.
   */
  @Test
  void aProgressiveJpegOfTooManyScansIsRefusedBeforeDecoding() throws IOException {
    byte[] progressive = progressiveJpeg(noise(64, 64, 3));
    assertThat(JpegSegments.scans(progressive, 1000)).as("libjpeg's progressive script for colour").isEqualTo(10);
    assertThat(decoder.decode(progressive, "image/jpeg", null, null).width()).isEqualTo(64);

    byte[] hundred = withLastScanRepeated(progressive, FrameDecoder.MAX_JPEG_SCANS - 10);
    assertThat(JpegSegments.scans(hundred, 1000)).isEqualTo(FrameDecoder.MAX_JPEG_SCANS);
    assertThat(decoder.decode(hundred, "image/jpeg", null, null).width()).isEqualTo(64);

    byte[] tooMany = withLastScanRepeated(progressive, FrameDecoder.MAX_JPEG_SCANS - 9);
    assertThat(JpegSegments.scans(tooMany, FrameDecoder.MAX_JPEG_SCANS)).as("counted no further than needed")
        .isEqualTo(FrameDecoder.MAX_JPEG_SCANS + 1);
    assertRejected(() -> decoder.decode(tooMany, "image/jpeg", null, null), RejectReason.TOO_LARGE,
        "JPEG has more than 100 scans");
    assertThat(JpegSegments.scans(encode(noise(64, 64, 3), "jpeg"), 1000)).as("a baseline JPEG").isEqualTo(1);
  }

  /**
   * The guards read a JPEG's markers as libjpeg does: past bytes between markers (it warns of them
   * and decodes on) and past markers without a length (TEM, RSTn). A walk that stopped at a stray
   * byte right after SOI found no frame header, so a progressive frame of thousands of scans
   * decoded unguarded, and a Motion-JPEG frame with the tables of the frame before.
   */
  @Test
  void strayBytesAndBareMarkersBeforeTheFrameHeaderLeaveTheGuardsOn() throws IOException {
    byte[] tooMany = withLastScanRepeated(progressiveJpeg(noise(64, 64, 3)), FrameDecoder.MAX_JPEG_SCANS);
    for (byte[] prefix : List.of(new byte[] {0x00}, new byte[] {0x55, 0x55, 0x55}, new byte[] {(byte) 0xff, 0x01},
        new byte[] {(byte) 0xff, (byte) 0xd3})) {
      byte[] hidden = afterSoi(tooMany, prefix);
      assertThat(JpegSegments.read(hidden).isProgressive()).as(Arrays.toString(prefix)).isTrue();
      assertRejected(() -> decoder.decode(hidden, "image/jpeg", null, null), RejectReason.TOO_LARGE,
          "JPEG has more than 100 scans");
    }

    byte[] optimised = encodeJpeg(noise(128, 96, 1), true);
    byte[] standard = encodeJpeg(noise(128, 96, 2), false);
    byte[] expected = decoder.decode(standard, "image/jpeg", null, null).rgb().clone();
    decoder.decode(optimised, "image/jpeg", null, null).release();
    DecodedFrame motionJpeg = decoder.decode(afterSoi(withoutSegments(standard, 0xc4), new byte[] {0x00}), "image/jpeg", null, null);
    assertThat(motionJpeg.rgb()).as("a Motion-JPEG frame with a stray byte: the standard tables").isEqualTo(expected);
  }

  /**
   * A sequential JPEG whose first scan leaves components out (a non-interleaved one) is read by
   * libjpeg as a multi-scan file, and it takes any number of scans after: each a pass over its
   * component, as a progressive one's. Without the guard, 1,000 scans of no data each (10 bytes
   * apiece) held a decode thread for 3 s on a 1024x1024 frame, 46 ms a scan on a 4096x4096 one: an
   * 8 MiB frame would hold it for hours.
   */
  @Test
  void aSequentialJpegOfTooManyScansIsRefusedBeforeDecoding() {
    byte[] interleaved = sequentialJpeg(true, 0);
    assertThat(JpegSegments.scans(interleaved, 1000)).isEqualTo(1);
    assertThat(decoder.decode(interleaved, "image/jpeg", null, null).width()).isEqualTo(64);

    byte[] threeScans = sequentialJpeg(false, 3);
    DecodedFrame frame = decoder.decode(threeScans, "image/jpeg", null, null);
    assertThat(rgbAt(frame, 10, 10)).as("every coefficient 0: mid grey").containsExactly(128, 128, 128);

    byte[] hundred = sequentialJpeg(false, FrameDecoder.MAX_JPEG_SCANS);
    assertThat(decoder.decode(hundred, "image/jpeg", null, null).width()).isEqualTo(64);

    byte[] tooMany = sequentialJpeg(false, FrameDecoder.MAX_JPEG_SCANS + 1);
    assertRejected(() -> decoder.decode(tooMany, "image/jpeg", null, null), RejectReason.TOO_LARGE,
        "JPEG has more than 100 scans");
  }

  /**
   * A 64x64 baseline YCbCr JPEG, by hand (ImageIO's writer interleaves its scans): every
   * coefficient 0, its scans either one of all three components, or {@code scans} of one
   * component each, in turn, each holding all of that component's blocks.
   */
  private static byte[] sequentialJpeg(boolean interleaved, int scans) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd8});
    byte[] ones = new byte[65];
    Arrays.fill(ones, 1, 65, (byte) 1);
    segment(out, 0xdb, ones); // quantisation table 0
    segment(out, 0xc0, new byte[] {8, 0, 64, 0, 64, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0});
    ByteArrayOutputStream tables = new ByteArrayOutputStream();
    huffmanTable(tables, 0x00, JPEGHuffmanTable.StdDCLuminance);
    huffmanTable(tables, 0x10, JPEGHuffmanTable.StdACLuminance);
    segment(out, 0xc4, tables.toByteArray());
    // Each block: DC difference category 0 ("00"), then end of block ("1010"); four blocks in 3 bytes.
    byte[] fourBlocks = {0x28, (byte) 0xa2, (byte) 0x8a};
    if (interleaved) {
      segment(out, 0xda, new byte[] {3, 1, 0, 2, 0, 3, 0, 0, 63, 0});
      for (int i = 0; i < 3 * 64 / 4; i++) {
        out.writeBytes(fourBlocks);
      }
    }
    for (int s = 0; s < scans; s++) {
      segment(out, 0xda, new byte[] {1, (byte) (1 + s % 3), 0, 0, 63, 0});
      for (int i = 0; i < 64 / 4; i++) {
        out.writeBytes(fourBlocks);
      }
    }
    out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xd9});
    return out.toByteArray();
  }

  private static void segment(ByteArrayOutputStream out, int marker, byte[] body) {
    out.writeBytes(new byte[] {(byte) 0xff, (byte) marker, (byte) ((body.length + 2) >> 8), (byte) (body.length + 2)});
    out.writeBytes(body);
  }

  private static void huffmanTable(ByteArrayOutputStream out, int classAndId, JPEGHuffmanTable table) {
    out.write(classAndId);
    for (short n : table.getLengths()) {
      out.write(n);
    }
    for (short v : table.getValues()) {
      out.write(v);
    }
  }

  private static byte[] progressiveJpeg(BufferedImage image) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    JPEGImageWriteParam param = new JPEGImageWriteParam(null);
    param.setProgressiveMode(JPEGImageWriteParam.MODE_DEFAULT);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.write(null, new IIOImage(image, null, null), param);
    }
    writer.dispose();
    return out.toByteArray();
  }

  /** {@code jpeg} with {@code bytes} right after its SOI marker. */
  private static byte[] afterSoi(byte[] jpeg, byte[] bytes) {
    byte[] out = new byte[jpeg.length + bytes.length];
    System.arraycopy(jpeg, 0, out, 0, 2);
    System.arraycopy(bytes, 0, out, 2, bytes.length);
    System.arraycopy(jpeg, 2, out, 2 + bytes.length, jpeg.length - 2);
    return out;
  }

  /** {@code jpeg} with its last scan (from its SOS marker to the EOI) written {@code extra} times more. */
  private static byte[] withLastScanRepeated(byte[] jpeg, int extra) {
    int lastScan = -1;
    for (int i = 0; i + 1 < jpeg.length; i++) {
      if ((jpeg[i] & 0xff) == 0xff && (jpeg[i + 1] & 0xff) == 0xda) {
        lastScan = i;
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, jpeg.length - 2);
    for (int k = 0; k < extra; k++) {
      out.write(jpeg, lastScan, jpeg.length - 2 - lastScan);
    }
    out.write(jpeg, jpeg.length - 2, 2);
    return out.toByteArray();
  }

  /**
   * A GIF whose LZW data is corrupt decodes with "Out-of-sequence code!" warnings and pixels from
   * codes that mean nothing: a prediction of garbage, where a JPEG's like damage is rejected.
   */
  @Test
  void aGifWithCorruptImageDataIsADecodeError() throws IOException {
    byte[] gif = encode(noise(64, 64, 7), "gif");
    for (int i = gif.length / 3; i < gif.length / 3 + 40; i++) {
      gif[i] ^= 0x5a;
    }
    assertRejected(() -> decoder.decode(gif, "image/gif", null, null),
        RejectReason.DECODE_ERROR, "GIF decoded with errors: Out-of-sequence code!");
  }

  /**
   * A JPEG cut in its scan data decodes with warnings and grey pixels: rejected, whether libjpeg
   * says so ("premature end of data segment") or only the JDK does ("Missing EOI marker", after an
   * earlier harmless libjpeg warning, which is the only one libjpeg reports); so is one without its
   * end marker.
   */
  @Test
  void jpegsCutInTheirScanDataAreDecodeErrors() throws IOException {
    byte[] jpeg = encode(noise(256, 256, 5), "jpeg");
    assertRejected(() -> decoder.decode(Arrays.copyOf(jpeg, jpeg.length * 7 / 10), "image/jpeg", null, null),
        RejectReason.DECODE_ERROR, "JPEG decoded with errors: Truncated File - Missing EOI marker");
    byte[] extraneous = withBytesBefore(jpeg, 0xda, 3);
    assertRejected(() -> decoder.decode(Arrays.copyOf(extraneous, extraneous.length * 7 / 10), "image/jpeg", null, null),
        RejectReason.DECODE_ERROR, "Missing EOI marker");
    assertRejected(() -> decoder.decode(Arrays.copyOf(jpeg, jpeg.length - 2), "image/jpeg", null, null),
        RejectReason.DECODE_ERROR, "Missing EOI marker");
  }

  /**
   * libjpeg warns of bytes between two markers ("Corrupt JPEG data: 3 extraneous bytes before
   * marker 0xda"), as some cameras write them, and skips them: the pixels are whole. Before, every
   * warning rejected the frame.
   */
  @Test
  void extraneousBytesBeforeAMarkerLeaveTheSamePixels() throws IOException {
    byte[] jpeg = encode(noise(256, 256, 6), "jpeg");
    byte[] expected = decoder.decode(jpeg, "image/jpeg", null, null).rgb().clone();

    DecodedFrame frame = decoder.decode(withBytesBefore(jpeg, 0xda, 3), "image/jpeg", null, null);

    assertThat(frame.rgb()).isEqualTo(expected);
  }

  /**
   * A Motion-JPEG frame (no Huffman tables: the standard ones apply) decodes to the same pixels
   * whatever the thread decoded before. The reused reader kept the tables of the frame before: after
   * a JPEG with optimised tables, "bad Huffman code".
   */
  @Test
  void framesWithoutHuffmanTablesGetTheStandardOnesWhateverCameBefore() throws IOException {
    byte[] optimised = encodeJpeg(noise(128, 96, 1), true);
    byte[] standard = encodeJpeg(noise(128, 96, 2), false);
    byte[] motionJpeg = withoutSegments(standard, 0xc4);
    assertThat(motionJpeg.length).as("DHT segments dropped").isLessThan(standard.length);
    byte[] expected = decoder.decode(standard, "image/jpeg", null, null).rgb().clone();

    decoder.decode(optimised, "image/jpeg", null, null).release();
    DecodedFrame frame = decoder.decode(motionJpeg, "image/jpeg", null, null);

    assertThat(frame.rgb()).isEqualTo(expected);
    assertThat(JpegSegments.withStandardHuffmanTables(standard)).as("a JPEG with its own tables").isSameAs(standard);
  }

  /** Without quantisation tables the reused reader took the frame before's: rejected instead. */
  @Test
  void aJpegWithoutQuantisationTablesIsADecodeError() throws IOException {
    byte[] jpeg = encode(noise(64, 48, 3), "jpeg");
    decoder.decode(jpeg, "image/jpeg", null, null).release();
    assertRejected(
        () -> decoder.decode(withoutSegments(jpeg, 0xdb), "image/jpeg", null, null),
        RejectReason.DECODE_ERROR,
        "JPEG defines no quantisation table (DQT) before its first scan");
  }

  /**
   * A frame that defines some of the tables its scan uses, not all (the chroma ones left out), took
   * the rest from the frame the thread decoded before: a missing quantisation table is rejected,
   * as a fresh decoder fails it; missing Huffman tables are the standard ones, as a fresh
   * libjpeg-turbo takes them, whatever came before.
   */
  @Test
  void aJpegLackingSomeOfItsTablesTakesNoneFromTheFrameBefore() throws IOException {
    byte[] optimised = encodeJpeg(noise(128, 96, 1), true);
    byte[] standard = encodeJpeg(noise(128, 96, 2), false);
    byte[] expected = decoder.decode(standard, "image/jpeg", null, null).rgb().clone();

    byte[] noChromaQuantisation = withoutTable(standard, 0xdb, 1);
    assertThat(noChromaQuantisation.length).as("a table dropped").isLessThan(standard.length);
    decoder.decode(optimised, "image/jpeg", null, null).release();
    assertRejected(() -> decoder.decode(noChromaQuantisation, "image/jpeg", null, null), RejectReason.DECODE_ERROR,
        "JPEG does not define quantisation table 1 (DQT), which its first scan uses, before it");

    byte[] noChromaHuffman = withoutTable(standard, 0xc4, 1);
    assertThat(noChromaHuffman.length).as("tables dropped").isLessThan(standard.length);
    decoder.decode(optimised, "image/jpeg", null, null).release();
    assertThat(decoder.decode(noChromaHuffman, "image/jpeg", null, null).rgb()).isEqualTo(expected);
  }

  /**
   * A progressive JPEG defines the Huffman tables of its later scans between them. One that left
   * them out took the tables of the frame the thread decoded before: it decoded, to the right
   * pixels, after the same image, and failed ("premature end of data segment") after another. A
   * fresh reader fails it ("Huffman table 0x00 was not defined"): rejected, whatever came before.
   */
  @Test
  void aLaterScanWithoutItsHuffmanTablesIsADecodeErrorWhateverCameBefore() throws IOException {
    byte[] progressive = progressiveJpeg(noise(64, 64, 3));
    byte[] broken = withoutSegmentsAfterTheFirstScan(progressive, 0xc4);
    assertThat(broken.length).as("DHT segments between scans dropped").isLessThan(progressive.length);

    for (byte[] before : List.of(progressive, encode(noise(64, 64, 4), "jpeg"), progressiveJpeg(noise(32, 48, 5)))) {
      decoder.decode(before, "image/jpeg", null, null).release();
      assertRejected(() -> decoder.decode(broken, "image/jpeg", null, null), RejectReason.DECODE_ERROR,
          "JPEG's scan 2 uses Huffman AC table 0, which no DHT defines before it");
    }
    assertThat(decoder.decode(progressive, "image/jpeg", null, null).width()).as("the frame whole").isEqualTo(64);
  }

  /** {@code jpeg} without its {@code marker} segments after its first scan header (SOS). */
  private static byte[] withoutSegmentsAfterTheFirstScan(byte[] jpeg, int marker) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean scanned = false;
    for (int i = 0; i < jpeg.length; ) {
      boolean markerHere = i + 3 < jpeg.length && (jpeg[i] & 0xff) == 0xff;
      if (markerHere && (jpeg[i + 1] & 0xff) == 0xda) {
        scanned = true;
      } else if (markerHere && scanned && (jpeg[i + 1] & 0xff) == marker) {
        i += 2 + (((jpeg[i + 2] & 0xff) << 8) | (jpeg[i + 3] & 0xff));
        continue;
      }
      out.write(jpeg[i++]);
    }
    return out.toByteArray();
  }

  /**
   * {@code jpeg} with the tables of id {@code id} left out of its {@code marker} segments (DQT: a
   * precision-and-id byte, then 64 or 128 bytes; DHT: a class-and-id byte, 16 counts, the values).
   */
  private static byte[] withoutTable(byte[] jpeg, int marker, int id) {
    return withoutTables(jpeg, marker, t -> t == id);
  }

  /** {@code jpeg} without the tables whose id {@code drop} takes, and without a segment left empty. */
  private static byte[] withoutTables(byte[] jpeg, int marker, IntPredicate drop) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, 2);
    int i = 2;
    while ((jpeg[i + 1] & 0xff) != 0xda) {
      int length = ((jpeg[i + 2] & 0xff) << 8) | (jpeg[i + 3] & 0xff);
      if ((jpeg[i + 1] & 0xff) != marker) {
        out.write(jpeg, i, 2 + length);
      } else {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        for (int t = i + 4; t < i + 2 + length; ) {
          int table = t;
          int size = marker == 0xdb
              ? 1 + 64 * ((jpeg[t] & 0xf0) == 0 ? 1 : 2)
              : 17 + IntStream.rangeClosed(1, 16).map(k -> jpeg[table + k] & 0xff).sum();
          if (!drop.test(jpeg[t] & 0x0f)) {
            kept.write(jpeg, t, size);
          }
          t += size;
        }
        if (kept.size() > 0) {
          out.write(0xff);
          out.write(marker);
          out.write((kept.size() + 2) >> 8);
          out.write((kept.size() + 2) & 0xff);
          out.writeBytes(kept.toByteArray());
        }
      }
      i += 2 + length;
    }
    out.write(jpeg, i, jpeg.length - i);
    return out.toByteArray();
  }

  private static byte[] encodeJpeg(BufferedImage image, boolean optimiseHuffman) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    JPEGImageWriteParam param = new JPEGImageWriteParam(null);
    param.setOptimizeHuffmanTables(optimiseHuffman);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.write(null, new IIOImage(image, null, null), param);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  /** The JPEG without its {@code marker} segments (DQT or DHT) before the first scan. */
  private static byte[] withoutSegments(byte[] jpeg, int marker) {
    return withoutTables(jpeg, marker, id -> true);
  }

  /** The JPEG with {@code count} bytes inserted before its first {@code marker}. */
  private static byte[] withBytesBefore(byte[] jpeg, int marker, int count) {
    for (int i = 2; i < jpeg.length - 1; i++) {
      if ((jpeg[i] & 0xff) == 0xff && (jpeg[i + 1] & 0xff) == marker) {
        byte[] out = new byte[jpeg.length + count];
        System.arraycopy(jpeg, 0, out, 0, i);
        Arrays.fill(out, i, i + count, (byte) 0x55);
        System.arraycopy(jpeg, i, out, i + count, jpeg.length - i);
        return out;
      }
    }
    throw new IllegalArgumentException("no marker 0x" + Integer.toHexString(marker));
  }

  /**
   * Grey PNGs the reader gives as two-band or 16-bit CS_GRAY images keep their grey values, as
   * 8-bit grey ones do: Java2D's redraw treated the grey as linear and turned an opaque 128 into
   * 188. Alpha applies over black, as for an RGBA PNG (200 at alpha 128 gives 100).
   */
  @Test
  void greyPngsWithAlphaOrSixteenBitsKeepTheirGrey() throws IOException {
    byte[] greyAlpha = greyPng(DataBuffer.TYPE_BYTE, true, 128, 255);
    BufferedImage read = ImageIO.read(new ByteArrayInputStream(greyAlpha));
    assertThat(read.getColorModel().getNumComponents()).as("grey and alpha").isEqualTo(2);
    assertThat(read.getColorModel().getColorSpace().getType()).isEqualTo(ColorSpace.TYPE_GRAY);

    assertThat(rgbAt(decoder.decode(greyAlpha, "image/png", null, null), 5, 5)).containsExactly(128, 128, 128);
    assertThat(rgbAt(decoder.decode(greyPng(DataBuffer.TYPE_BYTE, true, 200, 128), null, null, null), 5, 5))
        .containsExactly(100, 100, 100);
    assertThat(rgbAt(decoder.decode(greyPng(DataBuffer.TYPE_USHORT, false, 0x8080, 0), null, null, null), 5, 5))
        .containsExactly(128, 128, 128);
    assertThat(rgbAt(decoder.decode(greyPng(DataBuffer.TYPE_USHORT, true, 0x8080, 0xffff), null, null, null), 5, 5))
        .containsExactly(128, 128, 128);

    BufferedImage rgba = new BufferedImage(40, 40, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        rgba.setRGB(x, y, (128 << 24) | (200 << 16) | (200 << 8) | 200);
      }
    }
    assertThat(rgbAt(decoder.decode(encode(rgba, "png"), null, null, null), 5, 5)).containsExactly(100, 100, 100);
  }

  /** A 40x40 grey PNG of one value, of 8 or 16 bits ({@code DataBuffer} type), with alpha or not. */
  private static byte[] greyPng(int dataType, boolean alpha, int grey, int alphaValue) throws IOException {
    ComponentColorModel cm = new ComponentColorModel(
        ColorSpace.getInstance(ColorSpace.CS_GRAY), alpha, false,
        alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, dataType);
    WritableRaster raster = cm.createCompatibleWritableRaster(40, 40);
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        raster.setSample(x, y, 0, grey);
        if (alpha) {
          raster.setSample(x, y, 1, alphaValue);
        }
      }
    }
    return encode(new BufferedImage(cm, raster, false, null), "png");
  }

  /**
   * A grey PNG of 1, 2 or 4 bits puts the grey its tRNS chunk marks transparent over black, as
   * every other PNG's transparent pixels go: the JDK's reader compares that grey with its samples
   * once scaled to 8 bits, so it matched none, and a 4-bit frame's transparent 5 came out 85.
   * Interlaced or not, into a pooled array that held another frame's pixels before.
   */
  @ParameterizedTest
  @CsvSource({"1, 1, false", "2, 2, false", "4, 5, false", "1, 1, true", "2, 1, true", "4, 15, true"})
  void lowBitGreyPngsPutTheirTransparentGreyOverBlack(int depth, int transparent, boolean interlaced)
      throws IOException {
    FrameDecoder pooled = new FrameDecoder(LIMITS, new PixelBuffers(1 << 20));
    pooled.decode(encode(noise(40, 40, depth), "png"), null, null, null).release();
    byte[] png = GreyPngs.png(40, 40, depth, interlaced, GreyPngs.transparent(transparent), new byte[0]);

    DecodedFrame frame = pooled.decode(png, null, null, null);

    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        int v = GreyPngs.decoded(x, y, depth, transparent);
        assertThat(rgbAt(frame, x, y)).as("pixel (%d, %d), stored %d", x, y, GreyPngs.grey(x, y, depth))
            .containsExactly(v, v, v);
      }
    }
  }

  /**
   * Frames scaled to {@code ingest.resize.max.side} or to a fixed-size model's input are scaled
   * from the transparent grey put over black: the same frame as an RGB PNG of those pixels.
   */
  @Test
  void aLowBitGreyPngsTransparentGreyIsBlackBeforeTheFrameIsScaled() throws IOException {
    byte[] png = GreyPngs.png(40, 40, 4, true, GreyPngs.transparent(5), new byte[0]);
    BufferedImage opaque = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        opaque.setRGB(x, y, GreyPngs.decoded(x, y, 4, 5) * 0x010101);
      }
    }
    byte[] rgbPng = encode(opaque, "png");
    for (DecodeLimits limits : List.of(
        new DecodeLimits(1 << 20, 1 << 20, 8, 8, 0, 0, 17), new DecodeLimits(1 << 20, 1 << 20, 0, 0, 24, 30))) {
      FrameDecoder scaling = new FrameDecoder(limits, new PixelBuffers(1 << 20));
      DecodedFrame frame = scaling.decode(png, null, null, null);
      assertThat(frame.width()).isLessThan(40);
      assertThat(frame.rgb()).as("%s", limits).isEqualTo(scaling.decode(rgbPng, null, null, null).rgb());
    }
  }

  /**
   * A tRNS chunk the reader ignores (not 2 bytes long, after the data), or whose grey no pixel can
   * have, leaves every grey as it is; of two before the data, the reader takes the last, as it does
   * at 8 bits. A PNG whose chunks the walk cannot follow decodes as the reader decodes it.
   */
  @Test
  void aLowBitGreyPngsTransparentGreyIsReadAsTheReaderReadsItsChunks() throws IOException {
    byte[] none = new byte[0];
    byte[] tooShort = GreyPngs.chunk("tRNS", new byte[] {5});
    byte[] tooLong = GreyPngs.chunk("tRNS", new byte[] {0, 5, 0});
    byte[] outOfRange = GreyPngs.transparent(0x105);
    for (byte[] png : List.of(
        GreyPngs.png(40, 40, 4, false, tooShort, none),
        GreyPngs.png(40, 40, 4, false, tooLong, none),
        GreyPngs.png(40, 40, 4, false, outOfRange, none),
        GreyPngs.png(40, 40, 4, false, none, GreyPngs.transparent(5)))) {
      assertThat(greysOf(decoder.decode(png, null, null, null), 4, -1)).as("every grey kept").isTrue();
    }
    byte[] twice = concat(GreyPngs.transparent(3), GreyPngs.transparent(5));
    assertThat(greysOf(decoder.decode(GreyPngs.png(40, 40, 4, false, twice, none), null, null, null), 4, 5)).isTrue();
    byte[] afterShort = concat(GreyPngs.transparent(5), tooShort);
    assertThat(greysOf(decoder.decode(GreyPngs.png(40, 40, 4, false, afterShort, none), null, null, null), 4, 5))
        .as("a tRNS the reader ignores leaves the one before").isTrue();
  }

  /**
   * The walk over a PNG's chunks never throws, whatever they say: a PNG cut short anywhere, or with
   * any byte of its chunks before the data changed, is decoded or rejected with a reason.
   */
  @Test
  void aLowBitGreyPngsChunksCutOrCorruptedAreDecodedOrRejected() throws IOException {
    byte[] png = GreyPngs.png(40, 40, 2, false, concat(GreyPngs.chunk("gAMA", new byte[4]), GreyPngs.transparent(2)),
        new byte[0]);
    int data = 8 + 25 + 16 + 14; // signature, IHDR, gAMA, tRNS
    List<byte[]> broken = new ArrayList<>();
    for (int length = 0; length < png.length; length++) {
      broken.add(Arrays.copyOf(png, length));
    }
    for (int i = 8; i < data + 8; i++) {
      for (int value : new int[] {0, 1, 2, 13, 0x7f, 0x80, 0xff}) {
        byte[] changed = png.clone();
        changed[i] = (byte) value;
        broken.add(changed);
      }
    }
    for (byte[] bytes : broken) {
      assertThat(PngTransparentGrey.of(bytes)).isBetween(PngTransparentGrey.NONE, 255);
      try {
        decoder.decode(bytes, "image/png", null, null);
      } catch (FrameRejectedException e) {
        assertThat(e.reason()).isNotNull();
      }
    }
  }

  /** Whether a 40x40 {@link GreyPngs} frame of {@code depth} bits has {@code transparent} over black. */
  private static boolean greysOf(DecodedFrame frame, int depth, int transparent) {
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        int v = GreyPngs.decoded(x, y, depth, transparent);
        if (!Arrays.equals(rgbAt(frame, x, y), new int[] {v, v, v})) {
          return false;
        }
      }
    }
    return true;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /**
   * A 64x48 CMYK JPEG of pure red (C 0, M 255, Y 255, K 0), as Pillow 9.4 writes one (Adobe marker,
   * inverted values, 493 bytes).
   */
  private static final String CMYK_RED_JPEG_BASE64 =
      "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwAIBgYHBgUIBwcHCQkICgwUDQwLCwwZEhMPFB0aHx4dGhwcICQuJyAiLCMc"
      + "HCg3KSwwMTQ0NB8nOT04MjwuMzQy/8AAFAgAMABABEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAAB"
      + "AgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNi"
      + "coIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SV"
      + "lpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4E"
      + "QwBNAFkASwAAPwD3+vn+vn+vf6KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK"
      + "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK"
      + "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK//2Q==";

  /** This JDK reads CMYK JPEGs (older JDK 17 builds did not): red comes out red. */
  @Test
  void cmykJpegsDecodeToTheirColours() {
    byte[] cmyk = Base64.getDecoder().decode(CMYK_RED_JPEG_BASE64);
    assertThat(JpegSegments.components(cmyk)).isEqualTo(4);

    int[] pixel = rgbAt(decoder.decode(cmyk, "image/jpeg", null, null), 8, 24);

    assertThat(pixel[0]).isGreaterThan(240);
    assertThat(pixel[1]).isLessThan(15);
    assertThat(pixel[2]).isLessThan(15);
  }

  /**
   * A 32x32 CMYK JPEG as Pillow writes one (Adobe's inverted CMYK, no colour profile): K 128 on its left
   * half, C 55 M 225 Y 195 on its right. Pillow, and so torchvision's loader, reads them as grey 127
   * and as (200, 30, 60); gapstream did (187, 187, 187) and (229, 96, 133), the JDK's CMYK taken
   * for linear light. Pure red, as above, came out right either way.
   */
  private static final String CMYK_GREY_AND_RED_JPEG_BASE64 =
      "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
          + "AQEBAQEBAQEBAQEB/8AAFAgAIAAgBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIB"
          + "AwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZH"
          + "SElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV"
          + "1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwD+/iv7+K/v4qvRRRRX4j1/h71/jz1/oAUUUUV+3Ff7hFf7"
          + "DFf5/wDRRRRX4j1/h71/jz1/oAUUUUV+3Ff7hFf7DFf5/wDRRRRX4j1/h71/jz1/oAUUUUV+3Ff7hFf7DFf5/wDRRRRX4j1/h71/"
          + "jz1/oAUUUUV//9k=";

  @Test
  void cmykJpegMidTonesDecodeAsPillowReadsThem() {
    byte[] cmyk = Base64.getDecoder().decode(CMYK_GREY_AND_RED_JPEG_BASE64);
    assertThat(JpegSegments.components(cmyk)).isEqualTo(4);
    DecodedFrame frame = decoder.decode(cmyk, "image/jpeg", null, null);

    int[] grey = rgbAt(frame, 6, 6);
    for (int v : grey) {
      assertThat(v).as("K 128: %s", Arrays.toString(grey)).isBetween(125, 129);
    }
    int[] red = rgbAt(frame, 24, 24);
    assertThat(red[0]).as("C 55 M 225 Y 195: %s", Arrays.toString(red)).isBetween(198, 202);
    assertThat(red[1]).as("C 55 M 225 Y 195: %s", Arrays.toString(red)).isBetween(28, 32);
    assertThat(red[2]).as("C 55 M 225 Y 195: %s", Arrays.toString(red)).isBetween(58, 62);
  }

  /**
   * A JPEG whose colour space ImageIO has no RGB for (here two components; CMYK on older JDKs), for
   * which the reader throws "Unsupported Image Type": an unsupported format, not a corrupt JPEG.
   */
  @Test
  void aJpegOfAColourSpaceImageIoCannotConvertIsAnUnsupportedFormat() throws IOException {
    WritableRaster twoBands = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, 40, 40, 2, null);
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream stream = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(stream);
      writer.write(null, new IIOImage(twoBands, null, null), writer.getDefaultWriteParam());
    } finally {
      writer.dispose();
    }
    byte[] jpeg = out.toByteArray();
    assertThat(JpegSegments.components(jpeg)).isEqualTo(2);

    assertRejected(() -> decoder.decode(jpeg, "image/jpeg", null, null), RejectReason.UNSUPPORTED_FORMAT,
        "JPEG has 2 colour components that this JDK's ImageIO does not convert to RGB");
    assertRejected(() -> decoder.decode(jpeg, "image/jpeg", null, null), RejectReason.UNSUPPORTED_FORMAT, "CMYK");
  }

  @Test
  void tooManyBytesIsRejectedBeforeDecoding() {
    FrameDecoder small = new FrameDecoder(new DecodeLimits(10, 1 << 20, 1, 1, 0, 0));
    assertRejected(() -> small.decode(new byte[11], null, null, null), RejectReason.TOO_LARGE, "ingest.max.frame.bytes=10");
  }

  @Test
  void hugeDeclaredDimensionsAreRejectedFromTheHeader() throws IOException {
    byte[] png = encode(picture(), "png");
    // IHDR width and height sit at bytes 16..23; declare 100000 x 100000 (10^10 pixels).
    ByteBuffer.wrap(png, 16, 8).putInt(100_000).putInt(100_000);
    assertRejected(() -> decoder.decode(png, null, null, null), RejectReason.TOO_LARGE, "100000x100000");
    assertRejected(() -> decoder.decode(new byte[3], "image/x-raw-rgb", 100_000, 100_000), RejectReason.TOO_LARGE, "ingest.max.pixels");
  }

  /**
   * A strip within the pixel limit but longer than a JPEG can be is turned away from its header:
   * decoding and scaling one took hundreds of megabytes of row buffers. The PNG's pixels are those
   * of a 64x48 picture, so decoding it at all would fail as a decode error instead.
   */
  @Test
  void aSideLongerThanAJpegsIsRejectedFromTheHeader() throws IOException {
    FrameDecoder roomy = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 24, 0, 0, 0, 0, 256));
    byte[] png = encode(picture(), "png");
    ByteBuffer.wrap(png, 16, 8).putInt(FrameDecoder.MAX_SIDE + 1).putInt(1);
    assertRejected(() -> roomy.decode(png, null, null, null), RejectReason.TOO_LARGE, "65536x1 has a side longer than 65535");
    byte[] raw = new byte[3 * (FrameDecoder.MAX_SIDE + 1)];
    assertRejected(() -> roomy.decode(raw, "image/x-raw-rgb", 1, FrameDecoder.MAX_SIDE + 1), RejectReason.TOO_LARGE, "1x65536");
  }

  /** The model's minimum applies to the size a frame is scaled to, checked before decoding it. */
  @Test
  void aFrameTooSmallOnceScaledIsRejectedBeforeItsPixelsAreDecoded() throws IOException {
    FrameDecoder capped = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 32, 32, 0, 0, 64));
    byte[] png = encode(picture(), "png");
    ByteBuffer.wrap(png, 16, 8).putInt(4000).putInt(40);
    assertRejected(
        () -> capped.decode(png, null, null, null),
        RejectReason.BAD_SHAPE,
        "frame of 4000x40 (64x1 at ingest.resize.max.side=64) is smaller than the model's minimum 32x32");
  }

  /**
   * A BMP may wrap a JPEG or PNG (compression 4 or 5), and the JDK's reader allocates the size its
   * header claims for it before reading a byte: 2 GiB claimed in 70 bytes was an OutOfMemoryError,
   * which no catch took and which ends the service under -XX:+ExitOnOutOfMemoryError, on every
   * restart. Such a frame is refused from its header.
   */
  @ParameterizedTest
  @ValueSource(ints = {4, 5})
  void aBmpWrappingAnotherFormatIsRefusedFromItsHeader(int compression) {
    ByteBuffer bmp = ByteBuffer.allocate(14 + 40 + 16).order(ByteOrder.LITTLE_ENDIAN);
    bmp.put((byte) 'B').put((byte) 'M').putInt(bmp.capacity()).putInt(0).putInt(54);
    bmp.putInt(40).putInt(64).putInt(64).putShort((short) 1).putShort((short) 0)
        .putInt(compression).putInt(0x7fff_fff0);
    assertRejected(
        () -> decoder.decode(bmp.array(), null, null, null),
        RejectReason.UNSUPPORTED_FORMAT,
        "BMP wrapping a " + (compression == 4 ? "JPEG" : "PNG") + " (compression " + compression + ") is not supported");
  }

  /** A frame's RGB bytes are counted in an int: no pixel limit lets that overflow. */
  @Test
  void thePixelLimitKeepsAFramesBytesWithinAnInt() {
    assertThat(3 * DecodeLimits.MAX_PIXELS).isLessThanOrEqualTo(Integer.MAX_VALUE);
    assertThatThrownBy(() -> new DecodeLimits(1 << 20, DecodeLimits.MAX_PIXELS + 1, 1, 1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxPixels 536870913 is out of range [1, 536870912]");
  }

  @Test
  void framesBelowTheModelsMinimumAreABadShape() throws IOException {
    byte[] tiny = encode(new BufferedImage(16, 64, BufferedImage.TYPE_INT_RGB), "png");
    assertRejected(() -> decoder.decode(tiny, null, null, null), RejectReason.BAD_SHAPE, "smaller than the model's minimum 32x32");
  }

  /**
   * An ARGB image (a 32-bit BMP with an alpha mask) goes over black as every other image with alpha
   * does (an RGBA PNG, redrawn): its transparent pixels kept their colours, so one picture came out
   * differently by its format.
   */
  @Test
  void intArgbImagesGoOverBlackAsOtherImagesWithAlphaDo() {
    int[] pixels = {0x80c86432, 0x00ffffff, 0xff102030, 0x40ff0000};
    BufferedImage argb = new BufferedImage(4, 1, BufferedImage.TYPE_INT_ARGB);
    BufferedImage abgr = new BufferedImage(4, 1, BufferedImage.TYPE_4BYTE_ABGR);
    for (int x = 0; x < pixels.length; x++) {
      argb.setRGB(x, 0, pixels[x]);
      abgr.setRGB(x, 0, pixels[x]);
    }
    byte[] fromArgb = new byte[12];
    byte[] redrawn = new byte[12];
    RgbPixels.copy(argb, fromArgb);
    RgbPixels.copy(abgr, redrawn);

    assertThat(fromArgb).as("as the redraw of the same pixels").isEqualTo(redrawn);
    assertThat(Arrays.copyOf(fromArgb, 6)).containsExactly(100, 50, 25, 0, 0, 0);
  }

  /**
   * One-pixel black and white stripes shrunk 700 to 224 average to greys: bilinear filtering, which
   * reads 4 source pixels an output pixel, gave bands from near black to near white.
   */
  @Test
  void fixedSizeModelsGetFramesShrunkWithoutAliasing() throws IOException {
    // Each output pixel covers 3.125 stripes: from 1.125 white (92) to 2 (163).
    assertThat(greysOfStripesAt224(700, 500)).as("darkest and brightest grey").containsExactly(92, 163);
  }

  /**
   * The same stripes on a strip 100 px high: its width shrinks 700 to 224 while its height grows to
   * 224. Bilinear filtering alone, as before, aliased the width into bands from near black to near
   * white; the width is area-averaged first, and the height's upscale keeps those greys.
   */
  @Test
  void aStripThatShrinksOneWayAndGrowsTheOtherIsNotAliased() throws IOException {
    assertThat(greysOfStripesAt224(700, 100)).as("darkest and brightest grey").containsExactly(92, 163);
  }

  /**
   * One-pixel black and white stripes, {@code width} by {@code height}, through a decoder for a
   * model of 224x224: the darkest and the brightest value of the frame it gives.
   */
  private static int[] greysOfStripesAt224(int width, int height) throws IOException {
    BufferedImage stripes = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < width; x += 2) {
      for (int y = 0; y < height; y++) {
        stripes.setRGB(x, y, 0xffffff);
      }
    }
    FrameDecoder fixed = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 0, 0, 224, 224));
    DecodedFrame frame = fixed.decode(encode(stripes, "png"), null, null, null);
    assertThat(new int[] {frame.width(), frame.height()}).containsExactly(224, 224);
    int min = 255;
    int max = 0;
    for (byte b : frame.rgb()) {
      min = Math.min(min, b & 0xff);
      max = Math.max(max, b & 0xff);
    }
    return new int[] {min, max};
  }

  @Test
  void fixedSizeModelsGetFramesResized() throws IOException {
    FrameDecoder fixed = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 0, 0, 32, 16));
    DecodedFrame frame = fixed.decode(encode(picture(), "png"), null, null, null);
    assertThat(frame.width()).isEqualTo(32);
    assertThat(frame.height()).isEqualTo(16);
    assertThat(rgbAt(frame, 2, 8)[0]).isGreaterThan(200);
    assertThat(rgbAt(frame, 30, 8)[2]).isGreaterThan(200);
  }

  @Test
  void framesLongerThanTheMaxSideAreScaledDownAndTheirPixelsPooled() throws IOException {
    PixelBuffers buffers = new PixelBuffers(1 << 20);
    FrameDecoder capped = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 8, 8, 0, 0, 32), buffers);
    DecodedFrame frame = capped.decode(encode(picture(), "png"), null, null, null);
    assertThat(frame.width()).isEqualTo(32);
    assertThat(frame.height()).isEqualTo(24);
    // red left half, blue right half, as in the 64x48 frame
    assertThat(rgbAt(frame, 4, 12)).containsExactly(255, 0, 0);
    assertThat(rgbAt(frame, 28, 12)).containsExactly(0, 0, 255);
    assertThat(buffers.keptBytes()).as("the full-size pixels, given back").isEqualTo(3 * 64 * 48);
    frame.release();
    assertThat(buffers.keptBytes()).isEqualTo(3 * 64 * 48 + 3 * 32 * 24);

    byte[] raw = new byte[3 * 80 * 20];
    DecodedFrame wide = capped.decode(raw, "image/x-raw-rgb", 80, 20);
    assertThat(new int[] {wide.width(), wide.height()}).containsExactly(32, 8);
  }

  @Test
  void framesThatFitTheMaxSideAndFramesWithoutOneKeepTheirSize() throws IOException {
    FrameDecoder capped = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 8, 8, 0, 0, 64));
    DecodedFrame frame = capped.decode(encode(picture(), "png"), null, null, null);
    assertThat(new int[] {frame.width(), frame.height()}).containsExactly(64, 48);
    DecodedFrame own = decoder.decode(encode(noise(300, 200, 3), "png"), null, null, null);
    assertThat(new int[] {own.width(), own.height()}).containsExactly(300, 200);
  }

  @Test
  void aFrameScaledBelowTheModelsMinimumIsABadShapeThatSaysWhy() {
    FrameDecoder capped = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 32, 32, 0, 0, 64));
    byte[] strip = new byte[3 * 400 * 40];
    assertRejected(
        () -> capped.decode(strip, "image/x-raw-rgb", 400, 40),
        RejectReason.BAD_SHAPE,
        "frame of 400x40 (64x6 at ingest.resize.max.side=64) is smaller than the model's minimum 32x32");
  }

  private static void assertRejected(Runnable decode, RejectReason reason, String messagePart) {
    assertThatThrownBy(decode::run)
        .isInstanceOfSatisfying(FrameRejectedException.class, e -> assertThat(e.reason()).isEqualTo(reason))
        .hasMessageContaining(messagePart);
  }
}
