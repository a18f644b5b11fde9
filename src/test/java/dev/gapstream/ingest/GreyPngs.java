package dev.gapstream.ingest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

/**
 * Grey PNGs of 1, 2 or 4 bits written chunk by chunk: ImageIO's writer makes no grey PNG of those
 * depths with a transparent grey (tRNS). Their pixels are {@link #grey}, a pattern that holds every
 * value of the depth in each row.
 */
public final class GreyPngs {

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** Adam7's passes: first column, first row, column step, row step. */
  private static final int[][] ADAM7 = {
      {0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

  private GreyPngs() {}

  /** The stored grey of pixel ({@code x}, {@code y}) at {@code depth} bits. */
  public static int grey(int x, int y, int depth) {
    return (x + 3 * y) % (1 << depth);
  }

  /** The 8-bit grey the pixel has once decoded: {@code transparent} (a stored grey) over black. */
  public static int decoded(int x, int y, int depth, int transparent) {
    int grey = grey(x, y, depth);
    return grey == transparent ? 0 : grey * 255 / ((1 << depth) - 1);
  }

  /**
   * A {@code width}x{@code height} grey PNG of {@code depth} bits, Adam7-interlaced or not, with the
   * chunks {@code beforeData} between its header and its data and {@code afterData} after it.
   */
  public static byte[] png(int width, int height, int depth, boolean interlaced, byte[] beforeData, byte[] afterData) {
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    writeInt(header, width);
    writeInt(header, height);
    header.write(depth);
    header.write(0); // colour type 0: grey
    header.write(0); // deflate
    header.write(0); // adaptive filtering
    header.write(interlaced ? 1 : 0);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(SIGNATURE);
    png.writeBytes(chunk("IHDR", header.toByteArray()));
    png.writeBytes(beforeData);
    png.writeBytes(chunk("IDAT", deflated(scanlines(width, height, depth, interlaced))));
    png.writeBytes(afterData);
    png.writeBytes(chunk("IEND", new byte[0]));
    return png.toByteArray();
  }

  /** A tRNS chunk for a grey PNG: {@code grey} transparent. */
  public static byte[] transparent(int grey) {
    return chunk("tRNS", new byte[] {(byte) (grey >> 8), (byte) grey});
  }

  /** A chunk: its length, type, data and CRC. */
  public static byte[] chunk(String type, byte[] data) {
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeInt(out, data.length);
    out.writeBytes(typeBytes);
    out.writeBytes(data);
    writeInt(out, (int) crc.getValue());
    return out.toByteArray();
  }

  /** The filtered rows (filter 0: none) of the image, or of each Adam7 pass that has pixels. */
  private static byte[] scanlines(int width, int height, int depth, boolean interlaced) {
    ByteArrayOutputStream rows = new ByteArrayOutputStream();
    for (int[] pass : interlaced ? ADAM7 : new int[][] {{0, 0, 1, 1}}) {
      for (int y = pass[1]; y < height; y += pass[3]) {
        int count = (width - pass[0] + pass[2] - 1) / pass[2];
        if (count <= 0) {
          break; // a pass without columns has no rows either
        }
        byte[] row = new byte[(count * depth + 7) / 8];
        int bit = 0;
        for (int x = pass[0]; x < width; x += pass[2], bit += depth) {
          row[bit / 8] |= (byte) (grey(x, y, depth) << (8 - depth - bit % 8));
        }
        rows.write(0);
        rows.writeBytes(row);
      }
    }
    return rows.toByteArray();
  }

  private static byte[] deflated(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream deflater = new DeflaterOutputStream(out)) {
      deflater.write(data);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }
}
