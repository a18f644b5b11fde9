package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.gapstream.ingest.RejectReason;
import dev.gapstream.testing.LogCapture;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeadLetterLogTest {

  @Test
  void eachReasonGetsALineAtMostEveryTenSecondsSayingHowManyWentUnlogged() {
    try (LogCapture log = LogCapture.of(DeadLetterLog.class, Level.INFO)) {
      DeadLetterLog deadLetters = new DeadLetterLog();
      long t = 1_000_000;
      // A camera sending broken JPEGs, 30 a second for 12 s, and one frame too large among them.
      for (int i = 0; i < 360; i++) {
        deadLetters.deadLettered("frames-0-" + i, RejectReason.DECODE_ERROR, "JPEG is corrupt", t + i * 1000 / 30);
        if (i == 15) {
          deadLetters.deadLettered("frames-1-7", RejectReason.TOO_LARGE, "frame of 9000000 bytes", t + 500);
        }
      }

      List<String> lines = log.events().stream()
          .filter(e -> e.getLevel() == Level.WARN)
          .map(ILoggingEvent::getFormattedMessage)
          .toList();
      assertThat(lines).containsExactly(
          "Frame frames-0-0 dead-lettered (decode-error): JPEG is corrupt",
          "Frame frames-1-7 dead-lettered (too-large): frame of 9000000 bytes",
          "Frame frames-0-300 dead-lettered (decode-error): JPEG is corrupt"
              + " [299 more dead-lettered (decode-error) in the 10 s after the last such line, logged at DEBUG]");
    }
  }
}
