package dev.gapstream.ingest;

import java.io.IOException;
import java.util.Objects;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An ImageIO input stream that reads a frame's bytes where they are. ImageIO's {@code
 * MemoryCacheImageInputStream} over a {@code ByteArrayInputStream} copied them into cache blocks
 * of its own first (8 KB allocated per frame, the frame copied once more) — a cache for streams
 * that cannot seek back, which an array can.
 *
 * <p>Like the memory-cache stream it replaces, it reports its length as unknown, so readers take
 * the same paths. One per frame; not thread-safe, as no ImageIO stream is.
 */
final class ByteArrayImageInputStream extends ImageInputStreamImpl {

  private final byte[] data;

  ByteArrayImageInputStream(byte[] data) {
    this.data = Objects.requireNonNull(data, "data");
  }

  @Override
  public int read() throws IOException {
    checkClosed();
    bitOffset = 0;
    return streamPos < data.length ? data[(int) streamPos++] & 0xff : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    checkClosed();
    Objects.checkFromIndexSize(off, len, b.length);
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    long left = data.length - streamPos;
    if (left <= 0) {
      return -1;
    }
    int n = (int) Math.min(len, left);
    System.arraycopy(data, (int) streamPos, b, off, n);
    streamPos += n;
    return n;
  }

  @Override
  public boolean isCached() {
    return true;
  }

  @Override
  public boolean isCachedMemory() {
    return true;
  }

  /**
   * Nothing to release: an array, not a file. {@code ImageInputStreamImpl} closes its streams in
   * a {@code finalize} (up to JDK 24), which made every frame's stream finalizable: registered
   * under a lock all decode threads share, kept through one more collection, closed on the
   * finalizer thread. The JVM registers no object whose class's {@code finalize} is empty.
   */
  @Override
  @SuppressWarnings("deprecation") // Object.finalize, deprecated since 9
  protected void finalize() {}
}
