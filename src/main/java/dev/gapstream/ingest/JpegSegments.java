package dev.gapstream.ingest;

import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.plugins.jpeg.JPEGHuffmanTable;

/**
 * What a JPEG's marker segments say before its first scan, read without decoding it: its number
 * of colour components, and whether it defines its own tables.
 *
 * <p>Motion-JPEG cameras leave out the Huffman tables (DHT) of every frame, which then decodes with
 * the standard ones (JPEG Annex K.3). ImageIO's JPEG reader, reused for the next frame, keeps the
 * tables of the frame before instead, and decoded such a frame with those: "bad Huffman code", or
 * wrong pixels, depending on what the thread had decoded last. {@link #withStandardHuffmanTables}
 * gives such a frame the standard tables in its own bytes. {@link #walkScans} counts a frame's
 * scans, and finds one that uses a table the frame does not define, for the same reason.
 */
final class JpegSegments {

  private static final int SOS = 0xda;
  private static final int EOI = 0xd9;
  private static final int RST0 = 0xd0;
  private static final int TEM = 0x01;
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
   * @param undefinedQuantisationTable a quantisation table the first scan's components use and no DQT
   *     defines before it, or -1
   * @param undefinedHuffmanTable whether the first scan of a sequential Huffman-coded frame uses a
   *     Huffman table no DHT defines before it
   * @param firstScanComponents the number of components the first scan header (SOS) gives, or -1
   *     where none comes
   */
  record Header(
      int frameMarker,
      int components,
      boolean huffmanTables,
      boolean quantisationTables,
      int undefinedQuantisationTable,
      boolean undefinedHuffmanTable,
      int firstScanComponents) {

    /**
     * True for a DCT frame whose first scan uses a quantisation table it does not define (none at
     * all, say): a lossless frame (SOF3, 7, 11, 15) needs none, and where the frame header is
     * missing the reader says what is wrong.
     */
    boolean lacksQuantisationTables() {
      return frameMarker >= 0 && (frameMarker & 0x03) != 0x03 && undefinedQuantisationTable >= 0;
    }

    /** True for a progressive frame (SOF2, 6, 10, 14), whose scans each refine the whole image. */
    boolean isProgressive() {
      return frameMarker >= 0 && (frameMarker & 0x03) == 0x02;
    }

    /**
     * True where libjpeg reads the frame as one of several scans, each a pass over the components
     * it holds, and takes any number of them: a progressive frame, or a sequential one whose first
     * scan leaves components out (non-interleaved); also where the walk found no frame or scan
     * header (-1 is fewer than any), not knowing. A sequential frame whose first scan holds every
     * component is one scan, a second one being an error.
     */
    boolean hasMultipleScans() {
      return isProgressive() || frameMarker < 0 || components < 0 || firstScanComponents < components;
    }

    /**
     * True for a frame that leaves its Huffman tables out (a Motion-JPEG frame), or some of those
     * its first scan uses: the standard ones apply to those, as in a fresh decoder.
     */
    boolean lacksHuffmanTables() {
      return frameMarker >= 0 && (!huffmanTables || undefinedHuffmanTable);
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
   * The marker segments before the first scan, read up to it (or to where they end), found as
   * libjpeg finds them (see {@link #nextMarker}). Nothing is found in data that does not start with
   * SOI: the reader says what it is.
   */
  static Header read(byte[] jpeg) {
    int frameMarker = -1;
    int components = -1;
    boolean huffman = false;
    boolean quantisation = false;
    int quantisationDefined = 0; // a bit per table id
    int dcDefined = 0;
    int acDefined = 0;
    Map<Integer, Integer> tableOfComponent = new HashMap<>();
    int undefinedQuantisation = -1;
    boolean undefinedHuffman = false;
    int firstScanComponents = -1;
    boolean soi = jpeg.length >= 2 && (jpeg[0] & 0xff) == 0xff && (jpeg[1] & 0xff) == 0xd8;
    for (int i = soi ? nextMarker(jpeg, 2) : jpeg.length; i < jpeg.length; i = nextMarker(jpeg, next(jpeg, i))) {
      int marker = jpeg[i + 1] & 0xff;
      int end = Math.min(jpeg.length, next(jpeg, i));
      if (marker == EOI) {
        break;
      }
      if (marker == SOS) {
        firstScanComponents = i + 4 < end ? u8(jpeg, i + 4) : -1;
        // Ns, then per component its selector and its DC and AC table ids
        for (int c = i + 5; i + 4 < end && c + 1 < end && c < i + 5 + 2 * u8(jpeg, i + 4); c += 2) {
          Integer table = tableOfComponent.get(u8(jpeg, c));
          if (table != null && (quantisationDefined & (1 << table)) == 0 && undefinedQuantisation < 0) {
            undefinedQuantisation = table;
          }
          int dc = u8(jpeg, c + 1) >> 4;
          int ac = u8(jpeg, c + 1) & 0x0f;
          undefinedHuffman |= (dcDefined & (1 << dc)) == 0 || (acDefined & (1 << ac)) == 0;
        }
        break;
      }
      if (marker == DHT) {
        huffman = true;
        // per table: class and id, the 16 code-length counts, then that many values
        for (int t = i + 4; t + 17 <= end; t += 17 + valueCount(jpeg, t)) {
          int id = u8(jpeg, t) & 0x0f;
          if (u8(jpeg, t) >> 4 == 0) {
            dcDefined |= 1 << id;
          } else {
            acDefined |= 1 << id;
          }
        }
      } else if (marker == DQT) {
        quantisation = true;
        // per table: precision (0: 8-bit, 1: 16-bit) and id, then 64 entries
        for (int t = i + 4; t < end; t += 1 + 64 * ((u8(jpeg, t) >> 4) == 0 ? 1 : 2)) {
          quantisationDefined |= 1 << (u8(jpeg, t) & 0x0f);
        }
      } else if (frameMarker < 0 && isFrameHeader(marker)) {
        frameMarker = marker;
        // length 2, precision 1, height 2, width 2, the component count, then per component its
        // id, its sampling factors and its quantisation table id
        components = i + 9 < jpeg.length ? u8(jpeg, i + 9) : -1;
        for (int c = i + 10; c + 2 < end && c < i + 10 + 3 * components; c += 3) {
          tableOfComponent.put(u8(jpeg, c), u8(jpeg, c + 2) & 0x0f);
        }
      }
    }
    boolean sequentialHuffman = frameMarker >= 0 && frameMarker < 0xc9 && (frameMarker & 0x03) != 0x02;
    return new Header(
        frameMarker,
        components,
        huffman,
        quantisation,
        quantisation ? undefinedQuantisation : 0,
        sequentialHuffman && undefinedHuffman,
        firstScanComponents);
  }

  private static int u8(byte[] jpeg, int i) {
    return jpeg[i] & 0xff;
  }

  /** The number of values a DHT table at {@code t} lists: the sum of its 16 code-length counts. */
  private static int valueCount(byte[] jpeg, int t) {
    int n = 0;
    for (int k = 1; k <= 16; k++) {
      n += u8(jpeg, t + k);
    }
    return n;
  }

  /**
   * The number of scans (SOS segments) in a JPEG, counted up to {@code limit + 1}: one walk over
   * its markers, the scans' entropy-coded data passed over as libjpeg passes over it, a 0xFF byte
   * there followed by 0 (a stuffed byte) or a restart marker. Nothing is decoded.
   */
  static int scans(byte[] jpeg, int limit) {
    return walkScans(jpeg, limit).count();
  }

  /**
   * What a walk over a JPEG's scans found.
   *
   * @param count the scans counted, up to the walk's limit + 1, or to the first scan of {@code
   *     undefinedHuffmanTable}
   * @param undefinedHuffmanTable the first scan that uses a Huffman table no DHT defines before it,
   *     described ("scan 3 uses Huffman AC table 1"), or null
   */
  record Scans(int count, String undefinedHuffmanTable) {}

  /**
   * The scans of a JPEG, counted as {@link #scans} counts them, and each checked for the Huffman
   * tables it uses being defined before it, as libjpeg needs them when it starts the scan: a
   * sequential scan uses its components' DC and AC tables, a progressive one its DC tables where it
   * is a DC band's first (Ss 0, Ah 0), none where it refines a DC band, its AC table where it is an
   * AC band. ImageIO's reader, reused, takes a table no DHT of the frame defines from the frame the
   * thread decoded before: pixels that depend on that history, where a fresh reader fails the frame.
   */
  static Scans walkScans(byte[] jpeg, int limit) {
    boolean progressive = false;
    int dcDefined = 0; // a bit per table id
    int acDefined = 0;
    int scans = 0;
    for (int i = nextMarker(jpeg, 2); i < jpeg.length && scans <= limit; i = nextMarker(jpeg, next(jpeg, i))) {
      int marker = jpeg[i + 1] & 0xff;
      int end = Math.min(jpeg.length, next(jpeg, i));
      if (marker == EOI) {
        break;
      }
      if (marker == DHT) {
        for (int t = i + 4; t + 17 <= end; t += 17 + valueCount(jpeg, t)) {
          if (u8(jpeg, t) >> 4 == 0) {
            dcDefined |= 1 << (u8(jpeg, t) & 0x0f);
          } else {
            acDefined |= 1 << (u8(jpeg, t) & 0x0f);
          }
        }
      } else if (isFrameHeader(marker)) {
        progressive = (marker & 0x03) == 0x02;
      } else if (marker == SOS) {
        scans++;
        String undefined = undefinedHuffmanTable(jpeg, i, end, progressive, dcDefined, acDefined);
        if (undefined != null) {
          return new Scans(scans, "scan " + scans + " uses " + undefined);
        }
      }
    }
    return new Scans(scans, null);
  }

  /**
   * The first Huffman table the scan header at {@code i} uses and the frame has not defined, as
   * "Huffman DC table 1", or null. A header cut short uses none: the reader says what is wrong.
   */
  private static String undefinedHuffmanTable(
      byte[] jpeg, int i, int end, boolean progressive, int dcDefined, int acDefined) {
    int components = i + 4 < end ? u8(jpeg, i + 4) : 0;
    int spectral = i + 5 + 2 * components; // Ss, then Se, then Ah and Al
    if (spectral + 2 >= end) {
      return null;
    }
    boolean dcBand = u8(jpeg, spectral) == 0;
    boolean usesDc = !progressive || (dcBand && u8(jpeg, spectral + 2) >> 4 == 0);
    boolean usesAc = !progressive || !dcBand;
    for (int c = i + 5; c < spectral; c += 2) {
      int dc = u8(jpeg, c + 1) >> 4;
      int ac = u8(jpeg, c + 1) & 0x0f;
      if (usesDc && (dcDefined & (1 << dc)) == 0) {
        return "Huffman DC table " + dc;
      }
      if (usesAc && (acDefined & (1 << ac)) == 0) {
        return "Huffman AC table " + ac;
      }
    }
    return null;
  }

  /**
   * Where the next marker at or after {@code i} starts (its 0xFF), or the data's length where none
   * does: as libjpeg's {@code next_marker} finds it, past bytes that are not 0xFF (it warns of
   * "extraneous bytes" and decodes on), fill bytes (0xFF 0xFF) and stuffed zeros (0xFF 0x00). A walk
   * that stopped at such a byte missed the frame header behind it, which the reader then decoded
   * unguarded (see {@link FrameDecoder}).
   */
  private static int nextMarker(byte[] jpeg, int i) {
    for (; i + 1 < jpeg.length; i++) {
      if ((jpeg[i] & 0xff) == 0xff) {
        int next = jpeg[i + 1] & 0xff;
        if (next == 0) {
          i++; // a stuffed zero: the loop steps past it
        } else if (next != 0xff) {
          return i;
        }
      }
    }
    return jpeg.length;
  }

  /**
   * Where the marker at {@code i} ends: two bytes on for one without parameters (TEM, RST0 to 7,
   * SOI, EOI), past its segment for the others, whose length counts itself.
   */
  private static int next(byte[] jpeg, int i) {
    int marker = jpeg[i + 1] & 0xff;
    if (marker == TEM || (marker >= RST0 && marker <= EOI) || i + 3 >= jpeg.length) {
      return i + 2;
    }
    return i + 2 + Math.max(2, ((jpeg[i + 2] & 0xff) << 8) | (jpeg[i + 3] & 0xff));
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
