package dev.gapstream.ingest;

import java.io.ByteArrayOutputStream;
import javax.imageio.plugins.jpeg.JPEGHuffmanTable;

/**
 * What a JPEG's marker segments say before its first scan, read without decoding it: its number
 * of colour components, and whether it defines its own tables.
 *
 * <p>Motion-JPEG cameras leave out the Huffman tables (DHT) of every frame, which then decodes with
 * the standard ones (JPEG Annex K.3). ImageIO's JPEG reader, reused for the next frame, keeps the
 * tables of the frame before instead, and decoded such a frame with those: "bad Huffman code", or
 * wrong pixels, depending on what the thread had decoded last. {@link #withStandardHuffmanTables}
 * gives such a frame the standard tables in its own bytes.
 */
final class JpegSegments {

  private static final int SOS = 0xda;
  private static final int EOI = 0xd9;
  private static final int DHT = 0xc4;
  private static final int DQT = 0xdb;

  /** One DHT segment holding the four standard tables, as a frame without its own gets them. */
  private static final byte[] STANDARD_HUFFMAN_TABLES = standardHuffmanTables();

  private JpegSegments() {}

  /**
   * What comes before a JPEG's first scan, from one walk over its marker segments.
   *
   * @param frameMarker the frame header's marker (SOF0 to SOF15), or -1 where none comes first
   * @param components the number of colour components the frame header gives, or -1
   * @param huffmanTables whether a Huffman table (DHT) is defined
   * @param quantisationTables whether a quantisation table (DQT) is defined
   */
  record Header(int frameMarker, int components, boolean huffmanTables, boolean quantisationTables) {

    /**
     * True for a DCT frame without a quantisation table: a lossless frame (SOF3, 7, 11, 15) needs
     * none, and where the frame header is missing the reader says what is wrong.
     */
    boolean lacksQuantisationTables() {
      return frameMarker >= 0 && (frameMarker & 0x03) != 0x03 && !quantisationTables;
    }

    /** True for a progressive frame (SOF2, 6, 10, 14), whose scans each refine the whole image. */
    boolean isProgressive() {
      return frameMarker >= 0 && (frameMarker & 0x03) == 0x02;
    }

    /** True for a frame that leaves its Huffman tables out (a Motion-JPEG frame). */
    boolean lacksHuffmanTables() {
      return frameMarker >= 0 && !huffmanTables;
    }
  }

  /** The number of components in the frame header (its SOF marker), or -1 where none comes first. */
  static int components(byte[] jpeg) {
    return read(jpeg).components();
  }

  /**
   * {@code jpeg} itself when it defines a Huffman table before its first scan, or has no frame
   * header there; else a copy with the standard tables right after its start marker (where its own
   * DHT segments would have been).
   */
  static byte[] withStandardHuffmanTables(byte[] jpeg) {
    return withStandardHuffmanTables(jpeg, read(jpeg));
  }

  /** The same, with the JPEG's {@link #read} header. */
  static byte[] withStandardHuffmanTables(byte[] jpeg, Header header) {
    if (!header.lacksHuffmanTables()) {
      return jpeg;
    }
    byte[] out = new byte[jpeg.length + STANDARD_HUFFMAN_TABLES.length];
    System.arraycopy(jpeg, 0, out, 0, 2); // SOI
    System.arraycopy(STANDARD_HUFFMAN_TABLES, 0, out, 2, STANDARD_HUFFMAN_TABLES.length);
    System.arraycopy(jpeg, 2, out, 2 + STANDARD_HUFFMAN_TABLES.length, jpeg.length - 2);
    return out;
  }

  private static boolean isFrameHeader(int marker) {
    return marker >= 0xc0 && marker <= 0xcf && marker != DHT && marker != 0xc8 && marker != 0xcc;
  }

  /**
   * The marker segments before the first scan, read up to it (or to where they end or stop making
   * sense). Nothing is found in data that does not start with SOI: the reader says what it is.
   */
  static Header read(byte[] jpeg) {
    int frameMarker = -1;
    int components = -1;
    boolean huffman = false;
    boolean quantisation = false;
    boolean soi = jpeg.length >= 2 && (jpeg[0] & 0xff) == 0xff && (jpeg[1] & 0xff) == 0xd8;
    int i = 2; // past SOI
    while (soi && i + 3 < jpeg.length && (jpeg[i] & 0xff) == 0xff) {
      int marker = jpeg[i + 1] & 0xff;
      if (marker == 0xff) { // fill byte
        i++;
        continue;
      }
      if (marker == SOS || marker == EOI) {
        break;
      }
      if (marker == DHT) {
        huffman = true;
      } else if (marker == DQT) {
        quantisation = true;
      } else if (frameMarker < 0 && isFrameHeader(marker)) {
        frameMarker = marker;
        // length 2, precision 1, height 2, width 2, then the component count
        components = i + 9 < jpeg.length ? jpeg[i + 9] & 0xff : -1;
      }
      i += 2 + (((jpeg[i + 2] & 0xff) << 8) | (jpeg[i + 3] & 0xff));
    }
    return new Header(frameMarker, components, huffman, quantisation);
  }

  /**
   * The number of scans (SOS segments) in a JPEG, counted up to {@code limit + 1}: one walk over
   * its marker segments and past each scan's entropy-coded data, where a 0xFF byte is followed by 0
   * (a stuffed byte) or a restart marker, never a marker that ends the scan. Nothing is decoded.
   */
  static int scans(byte[] jpeg, int limit) {
    int scans = 0;
    int i = 2; // past SOI
    while (i + 1 < jpeg.length && scans <= limit) {
      if ((jpeg[i] & 0xff) != 0xff) {
        return scans; // not a marker where one must be: the reader says what is wrong
      }
      int marker = jpeg[i + 1] & 0xff;
      if (marker == 0xff) { // fill byte
        i++;
        continue;
      }
      if (marker == EOI || i + 3 >= jpeg.length) {
        return scans;
      }
      i += 2 + (((jpeg[i + 2] & 0xff) << 8) | (jpeg[i + 3] & 0xff));
      if (marker == SOS) {
        scans++;
        while (i + 1 < jpeg.length && !endsScan(jpeg, i)) {
          i++;
        }
      }
    }
    return scans;
  }

  /** Whether a marker that ends a scan's entropy-coded data starts at {@code i}. */
  private static boolean endsScan(byte[] jpeg, int i) {
    if ((jpeg[i] & 0xff) != 0xff) {
      return false;
    }
    int next = jpeg[i + 1] & 0xff;
    return next != 0 && next != 0xff && (next < 0xd0 || next > 0xd7);
  }

  private static byte[] standardHuffmanTables() {
    ByteArrayOutputStream tables = new ByteArrayOutputStream();
    table(tables, 0x00, JPEGHuffmanTable.StdDCLuminance);
    table(tables, 0x10, JPEGHuffmanTable.StdACLuminance);
    table(tables, 0x01, JPEGHuffmanTable.StdDCChrominance);
    table(tables, 0x11, JPEGHuffmanTable.StdACChrominance);
    int length = 2 + tables.size();
    ByteArrayOutputStream segment = new ByteArrayOutputStream();
    segment.write(0xff);
    segment.write(DHT);
    segment.write(length >> 8);
    segment.write(length & 0xff);
    segment.writeBytes(tables.toByteArray());
    return segment.toByteArray();
  }

  /** One table: its class (high nibble: 0 DC, 1 AC) and id, the 16 code-length counts, the values. */
  private static void table(ByteArrayOutputStream out, int classAndId, JPEGHuffmanTable table) {
    out.write(classAndId);
    for (short n : table.getLengths()) {
      out.write(n);
    }
    for (short v : table.getValues()) {
      out.write(v);
    }
  }
}
