package dev.gapstream.ingest;

import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrames;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded hostile frames: bit flips and truncations of valid JPEGs and PNGs, random bytes (some
 * behind a real magic number), images whose headers declare huge dimensions, raw RGB with
 * arbitrary size headers, and random content types. Used by the decoder fuzz test and the pipeline
 * fuzz test. Not thread-safe.
 */
public final class FuzzFrames {

  /** One input: the bytes and the headers a producer might attach (each may be null). */
  public record Input(String kind, byte[] data, String contentType, String width, String height) {}

  private static final List<String> CONTENT_TYPES =
      List.of(
          "image/jpeg", "image/png", "image/gif", "image/bmp", "image/x-raw-rgb", "image/webp",
          "application/octet-stream", "text/plain", "image/JPEG; q=1", "", " ", "image/", "image/png;;;",
          "\u0000\u00ff", "image/x-raw-rgb; width=64");

  private final Random random;
  private final List<byte[]> jpegs;
  private final List<byte[]> pngs;

  public FuzzFrames(long seed) {
    random = new Random(seed);
    SyntheticFrames frames =
        new SyntheticFrames(seed, List.of(new FrameSize(64, 64), new FrameSize(48, 80), new FrameSize(96, 64)));
    jpegs = List.of(frames.next().encode("jpeg"), frames.next().encode("jpeg"), frames.next().encode("jpeg"));
    pngs = List.of(frames.next().encode("png"), frames.next().encode("png"));
  }

  /** A valid JPEG of this generator (64x64, 48x80 or 96x64). */
  public byte[] validJpeg() {
    return jpegs.get(random.nextInt(jpegs.size()));
  }

  public Input next() {
    int pick = random.nextInt(10);
    return switch (pick) {
      case 0, 1 -> input("jpeg-bitflip", flip(validJpeg()));
      case 2 -> input("png-bitflip", flip(pngs.get(random.nextInt(pngs.size()))));
      case 3 -> input("jpeg-truncated", truncate(validJpeg()));
      case 4 -> input("png-truncated", truncate(pngs.get(random.nextInt(pngs.size()))));
      case 5 -> input("random-bytes", randomBytes());
      case 6 -> input("huge-dimensions", hugeDimensions());
      case 7 -> raw();
      case 8 -> new Input("random-content-type", anyImage(), randomContentType(), null, null);
      default -> input("magic-then-garbage", magicThenGarbage());
    };
  }

  private Input input(String kind, byte[] data) {
    // A third of the inputs carry a content type (right or wrong); the rest are sniffed.
    String type = random.nextInt(3) == 0 ? randomContentType() : null;
    return new Input(kind, data, type, null, null);
  }

  private byte[] anyImage() {
    return random.nextBoolean() ? validJpeg() : pngs.get(random.nextInt(pngs.size()));
  }

  private String randomContentType() {
    return CONTENT_TYPES.get(random.nextInt(CONTENT_TYPES.size()));
  }

  private byte[] flip(byte[] valid) {
    byte[] b = valid.clone();
    int flips = 1 + random.nextInt(16);
    for (int i = 0; i < flips; i++) {
      // Headers are where parsers break: bias a half of the flips to the first 200 bytes.
      int at = random.nextBoolean() ? random.nextInt(Math.min(200, b.length)) : random.nextInt(b.length);
      b[at] ^= (byte) (1 << random.nextInt(8));
    }
    return b;
  }

  private byte[] truncate(byte[] valid) {
    return Arrays.copyOf(valid, random.nextInt(valid.length));
  }

  private byte[] randomBytes() {
    byte[] b = new byte[random.nextInt(2_048)];
    random.nextBytes(b);
    return b;
  }

  private byte[] magicThenGarbage() {
    byte[][] magics = {
      {(byte) 0xff, (byte) 0xd8, (byte) 0xff}, {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10},
      {'G', 'I', 'F', '8', '9', 'a'}, {'B', 'M'}
    };
    byte[] magic = magics[random.nextInt(magics.length)];
    byte[] b = new byte[magic.length + 26 + random.nextInt(1_024)];
    random.nextBytes(b);
    System.arraycopy(magic, 0, b, 0, magic.length);
    return b;
  }

  /** A PNG whose IHDR, or a JPEG whose SOF, declares up to 65535 x 2^31 pixels over tiny data. */
  private byte[] hugeDimensions() {
    if (random.nextBoolean()) {
      byte[] png = pngs.get(random.nextInt(pngs.size())).clone();
      ByteBuffer ihdr = ByteBuffer.wrap(png, 16, 8); // width and height follow the IHDR tag
      ihdr.putInt(1 + random.nextInt(Integer.MAX_VALUE));
      ihdr.putInt(1 + random.nextInt(Integer.MAX_VALUE));
      return png; // the chunk's CRC is now wrong too, as it would be in a crafted bomb
    }
    byte[] jpeg = validJpeg().clone();
    for (int i = 2; i + 8 < jpeg.length; i++) {
      if ((jpeg[i] & 0xff) == 0xff && ((jpeg[i + 1] & 0xff) == 0xc0 || (jpeg[i + 1] & 0xff) == 0xc2)) {
        int h = 1 + random.nextInt(65_535);
        int w = 1 + random.nextInt(65_535);
        jpeg[i + 5] = (byte) (h >> 8);
        jpeg[i + 6] = (byte) h;
        jpeg[i + 7] = (byte) (w >> 8);
        jpeg[i + 8] = (byte) w;
        break;
      }
    }
    return jpeg;
  }

  private Input raw() {
    int w = random.nextInt(5) == 0 ? random.nextInt() : 1 + random.nextInt(128);
    int h = random.nextInt(5) == 0 ? random.nextInt() : 1 + random.nextInt(128);
    int size = random.nextBoolean() ? 3 * Math.abs(w % 128) * Math.abs(h % 128) : random.nextInt(50_000);
    byte[] b = new byte[size];
    random.nextBytes(b);
    String[] junk = {String.valueOf(w), String.valueOf(h), "abc", "", "-1", "99999999999"};
    String width = random.nextInt(8) == 0 ? junk[random.nextInt(junk.length)] : String.valueOf(w);
    String height = random.nextInt(8) == 0 ? null : String.valueOf(h);
    return new Input("raw-rgb", b, "image/x-raw-rgb", width, height);
  }
}
