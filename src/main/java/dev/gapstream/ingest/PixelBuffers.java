package dev.gapstream.ingest;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pixel arrays kept between frames of the same size. A frame's RGB array lives from its decode
 * until its batch has run, tens to hundreds of milliseconds: a young collection that falls in
 * that time copies the arrays of every decoded frame, 150 KB each at 224×224 (12 MB for the 80
 * that a pipeline behind its load holds decoded at the default batch settings). Reused arrays
 * settle in the old generation, where young collections do not copy them, and the decoder
 * allocates a third of what it did per frame.
 *
 * <p>Bounded by bytes ({@code ingest.pixel.pool.bytes}, 64 MiB by default: some 420 frames of
 * 224×224, 70 of 640×480): an array given back past the bound is left to the collector. The arrays
 * kept were all in use at once before, so the bound limits how long a burst's memory stays held,
 * not how much a burst takes.
 *
 * <p>At most {@link #MAX_LENGTHS} lengths are known, those with nothing kept forgotten to make
 * room: each frame size seen left an empty stack behind, so a stream of frames of ever new sizes
 * grew the heap without bound.
 *
 * <p>Thread-safe: taken on decode workers, given back wherever a frame's batch finishes.
 */
public final class PixelBuffers {

  /** Lengths known at most before those with nothing kept are forgotten: a stream's sizes are few. */
  static final int MAX_LENGTHS = 64;

  private final long maxBytes;
  private final Map<Integer, Stack> free = new ConcurrentHashMap<>();
  private final AtomicLong keptBytes = new AtomicLong();

  public PixelBuffers(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  /**
   * An array of exactly {@code length} bytes: one given back before, or a new one. Its contents
   * are whatever the last frame left there; the caller overwrites every byte.
   */
  byte[] take(int length) {
    Stack arrays = free.get(length);
    byte[] array = arrays == null ? null : arrays.pop();
    if (array == null) {
      return new byte[length];
    }
    keptBytes.addAndGet(-length);
    return array;
  }

  /** Keeps {@code array} for a later {@link #take} of its length; nothing may read it after. */
  void giveBack(byte[] array) {
    int length = array.length;
    if (keptBytes.addAndGet(length) > maxBytes || !roomFor(length)) {
      keptBytes.addAndGet(-length);
      return;
    }
    while (!free.computeIfAbsent(length, l -> new Stack()).push(array)) {
      Thread.onSpinWait(); // a stack being forgotten: the map is about to let it go
    }
  }

  /**
   * Whether arrays of {@code length} can be kept: its stack is known, or fewer than {@link
   * #MAX_LENGTHS} are once those holding nothing are forgotten.
   */
  private boolean roomFor(int length) {
    if (free.size() < MAX_LENGTHS || free.containsKey(length)) {
      return true;
    }
    free.values().removeIf(Stack::retireIfEmpty);
    return free.size() < MAX_LENGTHS;
  }

  /** The lengths with a stack now, empty or not. */
  int lengthsKnown() {
    return free.size();
  }

  /** Bytes kept for reuse now. */
  public long keptBytes() {
    return keptBytes.get();
  }

  /**
   * Arrays of one length, last in first out. A plain array under a lock, not a linked queue: a
   * long-lived queue that links a new node per push keeps pointing from the old generation into
   * the young one, and every young collection would scan those pointers.
   */
  private static final class Stack {
    private byte[][] arrays = new byte[16][];
    private int size;
    private boolean retired;

    /** False where the stack is being forgotten: the array goes to the length's next one. */
    synchronized boolean push(byte[] array) {
      if (retired) {
        return false;
      }
      if (size == arrays.length) {
        arrays = Arrays.copyOf(arrays, 2 * size);
      }
      arrays[size++] = array;
      return true;
    }

    /** Takes no array from now on if it holds none; true if so. */
    synchronized boolean retireIfEmpty() {
      retired = size == 0;
      return retired;
    }

    synchronized byte[] pop() {
      if (size == 0) {
        return null;
      }
      byte[] array = arrays[--size];
      arrays[size] = null;
      return array;
    }
  }
}
