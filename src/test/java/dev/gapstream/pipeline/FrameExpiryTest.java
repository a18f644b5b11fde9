package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.testing.LogCapture;
import java.util.List;
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
  void skippedFramesAreSummedUpInTheLogAtMostEveryTenSeconds() {
    try (LogCapture log = LogCapture.of(FrameExpiry.class)) {
      FrameExpiry expiry = new FrameExpiry(60_000);
      long t = 1_000_000;
      expiry.skipped("frames-0-1", 70_000, t); // the first is logged at once
      for (int i = 2; i <= 500; i++) {
        expiry.skipped("frames-0-" + i, 60_001 + i, t + i); // within 10 s: counted, not logged
      }
      expiry.skipped("frames-0-501", 65_000, t + 10_000); // 10 s on: the sum
      List<String> lines = log.messages();
      assertThat(lines).hasSize(2);
      assertThat(lines.get(0))
          .startsWith("Skipped 1 frame(s) older than ingest.max.frame.age.ms=60000 (the oldest 70000 ms old;"
              + " the latest frames-0-1)");
      assertThat(lines.get(1))
          .startsWith("Skipped 500 frame(s) older than ingest.max.frame.age.ms=60000 in the last 10 s"
              + " (the oldest 65000 ms old; the latest frames-0-501)");
    }
  }

  @Test
  void withoutALimitOrATimestampNothingExpires() {
    assertThat(new FrameExpiry(0).ageIfExpired(0, Long.MAX_VALUE / 2)).isEqualTo(-1);
    assertThat(new FrameExpiry(60_000).ageIfExpired(-1, 1_000_000_000)).as("no timestamp").isEqualTo(-1);
  }
}
