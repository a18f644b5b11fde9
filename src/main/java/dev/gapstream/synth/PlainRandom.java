package dev.gapstream.synth;

import java.util.Random;

/**
 * {@link Random}'s generator with its seed in a plain field instead of an {@code AtomicLong}: the
 * same numbers for a seed, draw for draw (every method of {@code Random} is specified in terms of
 * {@link #next(int)} and its linear congruential formula), without a compare-and-set per draw. A
 * frame's sensor noise takes three Gaussians a pixel, 25 million for a 4K frame, and the atomic
 * seed was most of their cost. For one thread only.
 */
final class PlainRandom extends Random {
  private static final long MULTIPLIER = 0x5DEECE66DL;
  private static final long ADDEND = 0xBL;
  private static final long MASK = (1L << 48) - 1;

  private long state;

  PlainRandom(long seed) {
    super(0); // the superclass's own seed is never read: next() is the only source
    setSeed(seed);
  }

  @Override
  public void setSeed(long seed) {
    super.setSeed(seed); // clears the cached second Gaussian
    state = (seed ^ MULTIPLIER) & MASK;
  }

  @Override
  protected int next(int bits) {
    state = (state * MULTIPLIER + ADDEND) & MASK;
    return (int) (state >>> (48 - bits));
  }
}
