package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PreprocessorTest {
  private static final float[] MEAN = {0.5f, 0.25f, 0.1f};
  private static final float[] STD = {0.5f, 0.25f, 0.2f};

  private static ModelSpec spec(ChannelOrder order) {
    return new ModelSpec(
        "m",
        "1",
        "input",
        "NCHW",
        order,
        255f,
        MEAN,
        STD,
        0,
        0,
        0,
        0,
        0,
        List.of("a"),
        "logits",
        null,
        HeadKind.CLASS_MAPS_GAP,
        ModelSpec.CELL_MIDDLE);
  }

  private static float expected(int pixel, int c) {
    return (pixel / 255f - MEAN[c]) / STD[c];
  }

  @Test
  void argbPixelsBecomeNormalisedPlanesAtTheBufferPosition() {
    int[] argb = {0xff102030, 0x00ff8000}; // two pixels, 2x1
    FloatBuffer dst = FloatBuffer.allocate(1 + 6);
    dst.position(1);
    new Preprocessor(spec(ChannelOrder.RGB)).toChw(argb, 2, 1, dst);
    assertThat(dst.position()).isEqualTo(7);
    assertThat(dst.get(0)).isZero();
    float[] want = {
      expected(0x10, 0), expected(0xff, 0),
      expected(0x20, 1), expected(0x80, 1),
      expected(0x30, 2), expected(0x00, 2)
    };
    for (int i = 0; i < 6; i++) {
      assertThat(dst.get(1 + i)).isCloseTo(want[i], within(1e-5f));
    }
  }

  @Test
  void bgrOrderSwapsPlanesForBytesAndInts() {
    byte[] rgb = {(byte) 200, 100, 50};
    FloatBuffer fromBytes = FloatBuffer.allocate(3);
    FloatBuffer fromInts = FloatBuffer.allocate(3);
    Preprocessor p = new Preprocessor(spec(ChannelOrder.BGR));
    p.toChw(rgb, 1, 1, fromBytes);
    p.toChw(new int[] {0xc86432}, 1, 1, fromInts);
    float[] want = {expected(50, 0), expected(100, 1), expected(200, 2)};
    for (int i = 0; i < 3; i++) {
      assertThat(fromBytes.get(i)).isCloseTo(want[i], within(1e-5f));
      assertThat(fromInts.get(i)).isCloseTo(want[i], within(1e-5f));
    }
  }

  @Test
  void bytesAndIntsGiveTheSameTensorAcrossChunksAndAtAnOffset() {
    // 53×47 = 2,491 pixels: more than two of the byte path's chunks, and not a multiple of one.
    int w = 53;
    int h = 47;
    Random random = new Random(7);
    byte[] rgb = new byte[3 * w * h];
    random.nextBytes(rgb);
    int[] argb = new int[w * h];
    for (int i = 0; i < argb.length; i++) {
      argb[i] = 0xff000000 | (rgb[3 * i] & 0xff) << 16 | (rgb[3 * i + 1] & 0xff) << 8 | (rgb[3 * i + 2] & 0xff);
    }
    for (ChannelOrder order : ChannelOrder.values()) {
      Preprocessor p = new Preprocessor(spec(order));
      int floats = Preprocessor.floatsPerImage(w, h);
      FloatBuffer fromBytes = ByteBuffer.allocateDirect((floats + 5) * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
      FloatBuffer fromInts = FloatBuffer.allocate(floats + 5);
      fromBytes.position(5);
      fromInts.position(5);
      p.toChw(rgb, w, h, fromBytes);
      p.toChw(argb, w, h, fromInts);

      assertThat(fromBytes.position()).isEqualTo(5 + floats);
      for (int i = 5; i < floats + 5; i++) {
        assertThat(fromBytes.get(i)).as("%s float %d", order, i).isEqualTo(fromInts.get(i));
      }
    }
  }

  @Test
  void rejectsShortInputAndFullBuffers() {
    Preprocessor p = new Preprocessor(spec(ChannelOrder.RGB));
    assertThatThrownBy(() -> p.toChw(new int[3], 2, 2, FloatBuffer.allocate(12)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2x2");
    assertThatThrownBy(() -> p.toChw(new int[4], 2, 2, FloatBuffer.allocate(11)))
        .isInstanceOf(BufferOverflowException.class);
  }
}
