package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FrameExpiryTest {

  @Test
  void aFrameExpiresOnceItIsOlderThanTheLimit() {
    FrameExpiry expiry = new FrameExpiry(60_000);
    assertThat(expiry.ageIfExpired(1_000_000, 1_060_000)).as("exactly the limit").isEqualTo(-1);
    assertThat(expiry.ageIfExpired(1_000_000, 1_060_001)).isEqualTo(60_001);
    assertThat(expiry.ageIfExpired(1_000_000, 1_000_500)).isEqualTo(-1);
    assertThat(expiry.ageIfExpired(1_000_000, 990_000)).as("stamped ahead of this clock").isEqualTo(-1);
    assertThat(expiry.error(61_234))
        .isEqualTo("the frame was 61234 ms old when its turn came, over ingest.max.frame.age.ms=60000: skipped unclassified");
  }

  @Test
  void withoutALimitOrATimestampNothingExpires() {
    assertThat(new FrameExpiry(0).ageIfExpired(0, Long.MAX_VALUE / 2)).isEqualTo(-1);
    assertThat(new FrameExpiry(60_000).ageIfExpired(-1, 1_000_000_000)).as("no timestamp").isEqualTo(-1);
  }
}
