package dev.gapstream.ingest;

/**
 * The transparent grey of a grey PNG of 1, 2 or 4 bits, which the JDK's reader reads from its tRNS
 * chunk but does not apply: it compares that grey with each sample once scaled to 8 bits (a 4-bit
 * 5 to 85), so only a transparent 0 ever matched, and other pixels of that grey kept it. Read here
 * from the PNG's chunks, without decoding it, and applied to its decoded pixels before they are
 * scaled: the pixels of that grey go over black, as every other PNG's transparent pixels do (the
 * reader gives 8- and 16-bit grey, colour and palette PNGs with their alpha already).
 */
final class PngTransparentGrey {

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final int IHDR = 0x49484452;
  private static final int IDAT = 0x49444154;
  private static final int TRNS = 0x74524e53;
  private static final int GREY = 0;

  /** What {@link #of} returns for a PNG without a transparent grey to apply. */
  static final int NONE = -1;

  private PngTransparentGrey() {}

  /**
   * The 8-bit value that {@code png}'s transparent grey has once decoded ({@code v * 255 / (2^depth
   * - 1)}), or {@link #NONE}: not a grey PNG of 1, 2 or 4 bits, no tRNS chunk, or one that no pixel
   * can match. The chunks are walked as the reader walks them (its metadata ignored), from the
   * header to the first data chunk, the last tRNS chunk of 2 bytes counting and one of another
   * length ignored. Never throws: chunks the walk cannot follow give {@link #NONE}, and the reader,
   * not this, says whether the PNG decodes.
   */
  static int of(byte[] png) {
    if (png.length < 26 || !hasSignature(png) || int32(png, 12) != IHDR) {
      return NONE;
    }
    int depth = png[24] & 0xff;
    if ((png[25] & 0xff) != GREY || (depth != 1 && depth != 2 && depth != 4)) {
      return NONE;
    }
    int grey = NONE;
    // Each chunk: its length (4 bytes), type (4), data, CRC (4). long: a length may be up to 2^32 - 1.
    for (long i = 8; i + 8 <= png.length; i += 12 + uint32(png, (int) i)) {
      int type = int32(png, (int) i + 4);
      if (type == IDAT) {
        break; // a tRNS chunk comes before the data; the reader stops there
      }
      if (type == TRNS && uint32(png, (int) i) == 2 && i + 10 <= png.length) {
        grey = ((png[(int) i + 8] & 0xff) << 8) | (png[(int) i + 9] & 0xff);
      }
    }
    int max = (1 << depth) - 1;
    return grey >= 0 && grey <= max ? grey * 255 / max : NONE;
  }

  /**
   * Puts the pixels of {@code rgb} (interleaved 8-bit RGB, the decoded {@code png}) that have its
   * transparent grey over black; leaves them all as they are where it has none.
   */
  static void putOverBlack(byte[] png, byte[] rgb) {
    int grey = of(png);
    if (grey <= 0) {
      return; // none, or black already
    }
    byte g = (byte) grey;
    for (int i = 0; i + 2 < rgb.length; i += 3) {
      if (rgb[i] == g && rgb[i + 1] == g && rgb[i + 2] == g) {
        rgb[i] = 0;
        rgb[i + 1] = 0;
        rgb[i + 2] = 0;
      }
    }
  }

  private static boolean hasSignature(byte[] png) {
    for (int i = 0; i < SIGNATURE.length; i++) {
      if (png[i] != SIGNATURE[i]) {
        return false;
      }
    }
    return true;
  }

  private static int int32(byte[] b, int i) {
    return ((b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
  }

  private static long uint32(byte[] b, int i) {
    return int32(b, i) & 0xffffffffL;
  }
}
