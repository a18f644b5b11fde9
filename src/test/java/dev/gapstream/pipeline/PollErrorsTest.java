package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class PollErrorsTest {

  private long nanos = 1_000;
  private final List<Long> waits = new ArrayList<>();
  private final PollErrors errors = new PollErrors(() -> nanos, waits::add);

  private void advanceMs(long ms) {
    nanos += TimeUnit.MILLISECONDS.toNanos(ms);
  }

  private void pollFails() {
    errors.record(new TopicAuthorizationException("Not authorized to access topics: [frames]"));
    advanceMs(waits.get(waits.size() - 1)); // the wait, then the next poll
  }

  @Test
  void pollsFailingAgainWaitLongerEachTimeUpToASecond() {
    assertThat(errors.failing()).as("before any error").isFalse();
    for (int i = 0; i < 8; i++) {
      pollFails();
    }
    assertThat(waits).containsExactly(50L, 100L, 200L, 400L, 800L, 1_000L, 1_000L, 1_000L);
    assertThat(errors.failing()).isTrue();
  }

  @Test
  void pollingCountsAsWorkingOnlyOnceFiveSecondsPassWithoutAnError() {
    pollFails();
    pollFails();
    advanceMs(PollErrors.QUIET_MS - 200); // with the 100 ms wait: 100 ms short of the quiet time
    assertThat(errors.failing()).isTrue();
    advanceMs(100);
    assertThat(errors.failing()).isFalse();

    pollFails();
    assertThat(errors.failing()).as("a new error").isTrue();
    assertThat(waits).as("a new run of errors starts at the shortest wait again").containsExactly(50L, 100L, 50L);
  }
}
