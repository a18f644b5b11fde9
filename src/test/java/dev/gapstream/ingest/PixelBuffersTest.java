package dev.gapstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PixelBuffersTest {

  @Test
  void anArrayGivenBackIsTakenAgainForItsLengthOnly() {
    PixelBuffers buffers = new PixelBuffers(1_000);
    byte[] a = buffers.take(300);
    assertThat(a).hasSize(300);
    buffers.giveBack(a);
    assertThat(buffers.keptBytes()).isEqualTo(300);

    byte[] other = buffers.take(200);
    assertThat(other).hasSize(200).isNotSameAs(a);
    assertThat(buffers.take(300)).isSameAs(a);
    assertThat(buffers.keptBytes()).isZero();
    assertThat(buffers.take(300)).as("none left: a new one").isNotSameAs(a).hasSize(300);
  }

  @Test
  void keepsNoMoreThanItsBound() {
    PixelBuffers buffers = new PixelBuffers(1_000);
    byte[][] arrays = {buffers.take(400), buffers.take(400), buffers.take(400)};
    for (byte[] array : arrays) {
      buffers.giveBack(array);
    }
    assertThat(buffers.keptBytes()).isEqualTo(800);
    assertThat(buffers.take(400)).isSameAs(arrays[1]); // the last kept, first out
    assertThat(buffers.take(400)).isSameAs(arrays[0]);
    byte[] fresh = buffers.take(400);
    for (byte[] array : arrays) {
      assertThat(fresh).as("the third was not kept").isNotSameAs(array);
    }

    PixelBuffers none = new PixelBuffers(0);
    byte[] array = none.take(10);
    none.giveBack(array);
    assertThat(none.keptBytes()).isZero();
    assertThat(none.take(10)).isNotSameAs(array);
  }

  /** Each new frame size left an empty stack behind: frames of ever new sizes grew the heap. */
  @Test
  void forgetsLengthsWithNothingKept() {
    PixelBuffers buffers = new PixelBuffers(1_000);
    byte[] kept = buffers.take(500);
    buffers.giveBack(kept);
    for (int length = 1_000; length < 2_000; length++) {
      buffers.giveBack(buffers.take(length));
      buffers.take(length);
    }
    assertThat(buffers.lengthsKnown()).isLessThanOrEqualTo(PixelBuffers.MAX_LENGTHS);
    assertThat(buffers.take(500) == kept).as("a length with an array kept stays").isTrue();
  }

  @Test
  void aNegativeBoundIsRejected() {
    assertThatThrownBy(() -> new PixelBuffers(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
