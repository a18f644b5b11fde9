package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GcPausesTest {

  @Test
  void countsTheCollectionsThatEndedBetweenTwoReadings() throws InterruptedException {
    long from = GcPauses.uptimeMs(); // listening from here on
    System.gc();
    // The notification comes from a JVM thread a moment after the pause.
    BenchReport.Pauses pauses = GcPauses.between(from, GcPauses.uptimeMs());
    for (int i = 0; i < 500 && pauses.count() == 0; i++) {
      TimeUnit.MILLISECONDS.sleep(10);
      pauses = GcPauses.between(from, GcPauses.uptimeMs());
    }
    assertThat(pauses.count()).isGreaterThanOrEqualTo(1);
    assertThat(pauses.longestMs()).isBetween(0L, pauses.totalMs());

    long later = GcPauses.uptimeMs();
    assertThat(GcPauses.between(later, later)).isEqualTo(BenchReport.Pauses.NONE);
    assertThat(GcPauses.between(Long.MIN_VALUE, later).count()).isGreaterThanOrEqualTo(pauses.count());
  }
}
