package dev.gapstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AreaDownscaleTest {

  @Test
  void fitKeepsTheAspectRatioWithTheLongerSideAtMaxSide() {
    assertThat(AreaDownscale.fit(1920, 1080, 256)).containsExactly(256, 144);
    assertThat(AreaDownscale.fit(1080, 1920, 256)).containsExactly(144, 256);
    assertThat(AreaDownscale.fit(640, 480, 256)).containsExactly(256, 192);
    assertThat(AreaDownscale.fit(1000, 1000, 256)).containsExactly(256, 256);
    assertThat(AreaDownscale.fit(5000, 2, 256)).as("at least one pixel").containsExactly(256, 1);
    assertThat(AreaDownscale.fit(256, 100, 256)).as("fits already").containsExactly(256, 100);
    assertThat(AreaDownscale.fit(64, 48, 256)).containsExactly(64, 48);
  }

  @Test
  void anIntegerFactorAveragesEachBlock() {
    // 4x2 to 2x1: each output pixel the rounded mean of a 2x2 block, per channel.
    byte[] src = rgb(
        0, 0, 0, 10, 20, 30, 100, 100, 100, 255, 255, 255,
        1, 2, 3, 11, 21, 31, 100, 101, 102, 255, 255, 254);
    byte[] dst = new byte[6];
    AreaDownscale.scale(src, 4, 2, dst, 2, 1);
    assertThat(unsigned(dst))
        .containsExactly(
            Math.round((0 + 10 + 1 + 11) / 4f),
            Math.round((0 + 20 + 2 + 21) / 4f),
            Math.round((0 + 30 + 3 + 31) / 4f),
            Math.round((100 + 255 + 100 + 255) / 4f),
            Math.round((100 + 255 + 101 + 255) / 4f),
            Math.round((100 + 255 + 102 + 254) / 4f));
  }

  @Test
  void aPixelAcrossTwoOutputPixelsCountsForTheShareEachCovers() {
    // 3 pixels to 2: the first output covers pixel 0 and half of pixel 1, the second the other
    // half of pixel 1 and pixel 2, each 1.5 pixels wide.
    byte[] src = rgb(0, 0, 0, 90, 90, 90, 240, 240, 240);
    byte[] dst = new byte[6];
    AreaDownscale.scale(src, 3, 1, dst, 2, 1);
    assertThat(unsigned(dst)).containsExactly(30, 30, 30, 190, 190, 190); // (0+45)/1.5, (45+240)/1.5
    // And the same down a column.
    AreaDownscale.scale(src, 1, 3, dst, 1, 2);
    assertThat(unsigned(dst)).containsExactly(30, 30, 30, 190, 190, 190);
  }

  @Test
  void aUniformFrameStaysUniformAtAnyFactor() {
    byte[] src = new byte[3 * 1920 * 1080];
    for (int i = 0; i < src.length; i += 3) {
      src[i] = (byte) 200;
      src[i + 1] = (byte) 17;
      src[i + 2] = (byte) 255;
    }
    for (int[] size : new int[][] {{256, 144}, {257, 145}, {1919, 1079}, {1, 1}, {640, 360}}) {
      byte[] dst = new byte[3 * size[0] * size[1]];
      AreaDownscale.scale(src, 1920, 1080, dst, size[0], size[1]);
      for (int i = 0; i < dst.length; i += 3) {
        assertThat(new int[] {dst[i] & 0xff, dst[i + 1] & 0xff, dst[i + 2] & 0xff})
            .as("pixel %d of %dx%d", i / 3, size[0], size[1])
            .containsExactly(200, 17, 255);
      }
    }
  }

  @ParameterizedTest(name = "{0} rows to 1")
  @CsvSource({"257", "258", "300", "1000"})
  void aWhiteFrameStaysWhiteAtTheLimitOfWhatALaneHolds(int rows) {
    // 257 rows onto 1: a column's sum is 257 x 255 = 65535, all a 16-bit lane holds; from 258 on
    // the rows are summed one byte at a time.
    byte[] src = new byte[3 * 5 * rows];
    Arrays.fill(src, (byte) 255);
    byte[] dst = new byte[3 * 2];
    AreaDownscale.scale(src, 5, rows, dst, 2, 1);
    assertThat(unsigned(dst)).containsOnly(255);
  }

  @Test
  void theFramesMeanBrightnessIsKept() {
    Random random = new Random(5);
    byte[] src = new byte[3 * 1280 * 720];
    random.nextBytes(src);
    byte[] dst = new byte[3 * 256 * 144];
    AreaDownscale.scale(src, 1280, 720, dst, 256, 144);
    assertThat(mean(dst)).isCloseTo(mean(src), org.assertj.core.data.Offset.offset(0.5));
  }

  @Test
  void finePatternsAverageOutInsteadOfAliasing() {
    // A one-pixel checkerboard of black and white, scaled by 3.75: every output pixel covers
    // about as much black as white. Sampling (nearest or bilinear, four pixels per output) turns
    // it into stripes and blotches of near black and near white the model never saw.
    int w = 960;
    int h = 540;
    byte[] src = new byte[3 * w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        byte v = (byte) (((x + y) & 1) == 0 ? 0 : 255);
        int p = 3 * (y * w + x);
        src[p] = v;
        src[p + 1] = v;
        src[p + 2] = v;
      }
    }
    byte[] dst = new byte[3 * 256 * 144];
    AreaDownscale.scale(src, w, h, dst, 256, 144);
    for (byte b : dst) {
      assertThat(b & 0xff).isBetween(110, 145);
    }
  }

  @ParameterizedTest(name = "{0}x{1} to {2}x{3}")
  @CsvSource({
    "1920, 1080, 256, 144", // a whole pixel weighs 2 units, a split one 1: summed in 16-bit lanes
    "1280, 720, 256, 144", // an integer factor: every pixel whole
    "1366, 768, 256, 144", // rows of 4098 bytes: two after the last whole eight
    "641, 479, 256, 191",
    "600, 1081, 80, 144", // 1081 rows onto 144 share no divisor: 1081 units, summed one byte at a time
    "300, 2000, 7, 3", // a factor of 667 down: too many units for a lane
    "5, 3, 2, 2",
    "1, 9, 1, 4", // rows of three bytes: every byte after the last whole eight
  })
  void everyOutputPixelIsTheExactMeanOfTheAreaItCovers(int sw, int sh, int dw, int dh) {
    byte[] src = new byte[3 * sw * sh];
    new Random(sw * 31L + sh).nextBytes(src);
    byte[] dst = new byte[3 * dw * dh];
    AreaDownscale.scale(src, sw, sh, dst, dw, dh);
    for (int y = 0; y < dh; y++) {
      for (int x = 0; x < dw; x++) {
        for (int c = 0; c < 3; c++) {
          // The mean as a fraction sum / (sw·sh), over source pixels weighted by how much of them
          // the output pixel covers, in 1/dw of a pixel across and 1/dh down.
          long sum = 0;
          for (int sy = y * sh / dh; sy < sh && (long) sy * dh < (long) (y + 1) * sh; sy++) {
            long wy = Math.min((long) (y + 1) * sh, (long) (sy + 1) * dh) - Math.max((long) y * sh, (long) sy * dh);
            for (int sx = x * sw / dw; sx < sw && (long) sx * dw < (long) (x + 1) * sw; sx++) {
              long wx = Math.min((long) (x + 1) * sw, (long) (sx + 1) * dw) - Math.max((long) x * sw, (long) sx * dw);
              sum += wx * wy * (src[3 * (sy * sw + sx) + c] & 0xff);
            }
          }
          long area = (long) sw * sh;
          long below = sum / area;
          int got = dst[3 * (y * dw + x) + c] & 0xff;
          if (2 * (sum % area) == area) {
            assertThat(got).as("pixel %d,%d channel %d (halfway)", x, y, c).isBetween((int) below, (int) below + 1);
          } else {
            assertThat(got).as("pixel %d,%d channel %d", x, y, c).isEqualTo(Math.round((double) sum / area));
          }
        }
      }
    }
  }

  @Test
  void aBufferedImageIsFittedLikeAFrame() {
    BufferedImage image = new BufferedImage(800, 400, BufferedImage.TYPE_INT_RGB);
    image.setRGB(0, 0, 800, 400, new int[800 * 400], 0, 800);
    for (int x = 400; x < 800; x++) {
      for (int y = 0; y < 400; y++) {
        image.setRGB(x, y, 0xff8040);
      }
    }
    BufferedImage fitted = AreaDownscale.fitted(image, 200);
    assertThat(fitted.getWidth()).isEqualTo(200);
    assertThat(fitted.getHeight()).isEqualTo(100);
    assertThat(fitted.getRGB(10, 50) & 0xffffff).isZero();
    assertThat(fitted.getRGB(150, 50) & 0xffffff).isEqualTo(0xff8040);
    assertThat(AreaDownscale.fitted(image, 800)).as("fits already").isSameAs(image);
  }

  /**
   * {@code explain}'s resize to a fixed-size model's input, as the decoder's: one-pixel stripes
   * shrunk 700 to 224 come out near their mean (bilinear filtering, which {@code explain} used,
   * read 4 pixels an output pixel and kept them at 0 and 255 in places); a size that grows is
   * filtered.
   */
  @Test
  void aBufferedImageIsResizedForAFixedSizeModelLikeAFrame() {
    BufferedImage stripes = new BufferedImage(700, 700, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < 700; x++) {
      for (int y = 0; y < 700; y++) {
        stripes.setRGB(x, y, x % 2 == 0 ? 0xffffff : 0);
      }
    }
    BufferedImage shrunk = AreaDownscale.resized(stripes, 224, 224);
    assertThat(shrunk.getWidth()).isEqualTo(224);
    for (int x = 0; x < 224; x++) {
      assertThat(shrunk.getRGB(x, 100) & 0xff).as("column %d", x).isBetween(80, 175);
    }
    BufferedImage grown = AreaDownscale.resized(stripes, 800, 224);
    assertThat(grown.getWidth()).isEqualTo(800);
    assertThat(grown.getHeight()).isEqualTo(224);
    assertThat(AreaDownscale.resized(stripes, 700, 700)).isSameAs(stripes);
  }

  /**
   * {@code explain} feeds a fixed-size model the pixels the pipeline feeds it, whichever way each
   * side goes: a 640x200 strip to 224x224 (its width shrinks, its height grows) was filtered
   * bilinearly whole, a mean 84 levels off the decoder's, which area-averages the width first.
   */
  @ParameterizedTest
  @CsvSource({"640, 200", "300, 100", "200, 640", "100, 80", "700, 700", "224, 100"})
  void explainsResizeGivesTheDecodersPixels(int width, int height) throws Exception {
    BufferedImage stripes = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(width * 31L + height);
    for (int x = 0; x < width; x++) {
      for (int y = 0; y < height; y++) {
        stripes.setRGB(x, y, x % 2 == 0 ? random.nextInt(0x1000000) : 0);
      }
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(stripes, "png", png);
    DecodedFrame decoded =
        new FrameDecoder(new DecodeLimits(1 << 22, 1 << 22, 0, 0, 224, 224)).decode(png.toByteArray(), null, null, null);

    BufferedImage resized = AreaDownscale.resized(stripes, 224, 224);
    byte[] rgb = new byte[3 * 224 * 224];
    RgbPixels.copy(resized, rgb);
    assertThat(rgb).isEqualTo(Arrays.copyOf(decoded.rgb(), rgb.length));
  }

  @Test
  void itOnlyScalesDown() {
    byte[] src = new byte[3 * 4 * 4];
    assertThatThrownBy(() -> AreaDownscale.scale(src, 4, 4, new byte[3 * 8 * 2], 8, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4x4 to 8x2");
    assertThatThrownBy(() -> AreaDownscale.scale(src, 4, 4, new byte[3], 2, 2))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static byte[] rgb(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  private static int[] unsigned(byte[] bytes) {
    int[] out = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = bytes[i] & 0xff;
    }
    return out;
  }

  private static double mean(byte[] bytes) {
    long sum = 0;
    for (byte b : bytes) {
      sum += b & 0xff;
    }
    return (double) sum / bytes.length;
  }
}
