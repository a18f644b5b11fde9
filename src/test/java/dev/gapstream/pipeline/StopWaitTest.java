package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.config.ConfigLoader;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * How long closing the service waits for the pipeline's stop: never less than the stop may take
 * with the drain {@code shutdown.timeout.ms} allows, then its final commit, leaving the group and
 * closing the producer (5 s at least each); before, two minutes whatever the drain was allowed.
 */
class StopWaitTest {

  @Test
  void aLongDrainIsWaitedForWithTheStepsAfterIt() {
    Duration wait = GapstreamService.stopWait(
        ConfigLoader.builder().set("shutdown.timeout.ms", "600000").load());
    assertThat(wait).isGreaterThanOrEqualTo(Duration.ofMinutes(10).plusSeconds(15));
  }

  @Test
  void theDefaultDrainKeepsTheTwoMinuteWait() {
    assertThat(GapstreamService.stopWait(ConfigLoader.builder().load())).isEqualTo(Duration.ofMinutes(2));
    assertThat(PipelineVerticle.longestStop(Duration.ofSeconds(30)))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(45));
  }
}
