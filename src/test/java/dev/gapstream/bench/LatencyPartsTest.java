package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.bench.BenchReport.Parts;
import org.junit.jupiter.api.Test;

class LatencyPartsTest {

  @Test
  void splitsEachFrameIntoItsPartsAndSaysWhatTheSlowestWaitedOn() {
    LatencyParts parts = new LatencyParts();
    // 197 frames: 5 ms to the pipeline, 10 queued, 8 inference, 2 to publish (25 in all)...
    for (int i = 0; i < 197; i++) {
      parts.add(25, 10, 8, 23);
    }
    // ...and three slow ones that waited for a slot: 100, 90 and 80 ms queued.
    parts.add(115, 100, 8, 113);
    parts.add(95, 80, 8, 93);
    parts.add(105, 90, 8, 103);

    Parts s = parts.summary();

    assertThat(s.slowestFrames()).isEqualTo(2);
    assertThat(s.toPipeline().p50Ms()).isEqualTo(5.0);
    assertThat(s.queued().p50Ms()).isEqualTo(10.0);
    assertThat(s.queued().p99Ms()).isEqualTo(80.0);
    assertThat(s.queued().slowestMeanMs()).isEqualTo(95.0);
    assertThat(s.inference().slowestMeanMs()).isEqualTo(8.0);
    assertThat(s.toPublish().p99Ms()).isEqualTo(2.0);
    assertThat(s.all()).extracting(BenchReport.Part::name)
        .containsExactly("to the pipeline", "decode, batch, wait", "inference", "to publish");
  }

  @Test
  void aPartThatClockSkewWouldMakeNegativeCountsAsZero() {
    LatencyParts parts = new LatencyParts();
    // Published within the same millisecond as the prediction was made, rounded down: 9 < 9.4.
    parts.add(9, 2, 3, 9.4);

    Parts s = parts.summary();

    assertThat(s.toPublish().p50Ms()).isZero();
    assertThat(s.toPipeline().p50Ms()).isEqualTo(4.4);
  }

  @Test
  void noFramesNoSummary() {
    assertThat(new LatencyParts().summary()).isNull();
  }
}
