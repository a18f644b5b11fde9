package dev.gapstream.synth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link PlainRandom} draws what {@link Random} draws for the same seed, so frames stay the same. */
class PlainRandomTest {

  @Test
  void drawsWhatRandomDrawsForTheSameSeed() {
    for (long seed : new long[] {0, 1, 1001, -7, Long.MAX_VALUE}) {
      Random expected = new Random(seed);
      Random actual = new PlainRandom(seed);
      for (int i = 0; i < 10_000; i++) {
        assertThat(actual.nextInt(176)).isEqualTo(expected.nextInt(176));
        assertThat(actual.nextFloat()).isEqualTo(expected.nextFloat());
        assertThat(actual.nextDouble()).isEqualTo(expected.nextDouble());
        assertThat(actual.nextGaussian()).isEqualTo(expected.nextGaussian());
        assertThat(actual.nextBoolean()).isEqualTo(expected.nextBoolean());
        assertThat(actual.nextLong()).isEqualTo(expected.nextLong());
      }
    }
  }

  @Test
  void reseedingStartsTheSequenceAgain() {
    Random r = new PlainRandom(42);
    double first = r.nextGaussian(); // leaves its pair's second Gaussian cached
    r.setSeed(42);
    assertThat(r.nextGaussian()).isEqualTo(first);
  }
}
