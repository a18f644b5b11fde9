package dev.gapstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import org.junit.jupiter.api.Test;

class ByteArrayImageInputStreamTest {

  @Test
  void readsTheArrayThenReportsItsEnd() throws IOException {
    ByteArrayImageInputStream in = new ByteArrayImageInputStream(new byte[] {1, 2, (byte) 0xff, 4, 5});
    byte[] buf = new byte[8];

    assertThat(in.read()).isEqualTo(1);
    assertThat(in.read(buf, 2, 2)).isEqualTo(2);
    assertThat(buf).startsWith(0, 0, 2, -1);
    assertThat(in.readUnsignedByte()).isEqualTo(4);
    assertThat(in.read(buf, 0, 8)).as("only what is left").isEqualTo(1);
    assertThat(buf[0]).isEqualTo((byte) 5);
    assertThat(in.read()).isEqualTo(-1);
    assertThat(in.read(buf, 0, 8)).isEqualTo(-1);
    assertThat(in.read(buf, 0, 0)).isZero();
    assertThat(in.length()).as("unknown, as ImageIO's memory-cache stream says").isEqualTo(-1);
  }

  @Test
  void seeksBackMarksAndResets() throws IOException {
    ByteArrayImageInputStream in = new ByteArrayImageInputStream(new byte[] {10, 20, 30, 40});
    in.skipBytes(2);
    in.mark();
    assertThat(in.read()).isEqualTo(30);
    in.reset();
    assertThat(in.read()).isEqualTo(30);
    in.seek(0);
    assertThat(in.read()).isEqualTo(10);
    assertThat(in.getStreamPosition()).isEqualTo(1);
  }

  @Test
  void aClosedStreamOrABadRangeIsAnError() throws IOException {
    ByteArrayImageInputStream in = new ByteArrayImageInputStream(new byte[4]);
    assertThatThrownBy(() -> in.read(new byte[2], 1, 2)).isInstanceOf(IndexOutOfBoundsException.class);
    in.close();
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
  }

  /**
   * A frame's stream goes in the first collection after its frame: not held for a finalizer (and
   * the frame's bytes with it) as ImageInputStreamImpl's finalize would have it on JDK 17. A
   * finalizable object reaches its phantom reference only after the finalizer thread ran and a
   * second collection found it.
   */
  @Test
  void aStreamIsCollectedWithoutFinalization() throws InterruptedException {
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    PhantomReference<Object> ref = new PhantomReference<>(new ByteArrayImageInputStream(new byte[1 << 20]), queue);
    System.gc();
    Reference<?> collected = queue.remove(2_000);
    assertThat(collected).as("enqueued after one collection").isSameAs(ref);
  }
}
