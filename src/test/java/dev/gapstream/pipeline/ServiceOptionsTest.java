package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.config.ConfigException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The event loop's time limit: 2 s, or the system property's, which a bad value fails naming. Each
 * test starts without the property and puts back the value it found: surefire sets it for the whole
 * test JVM (pom.xml), and the tests after this class (demo, bench) run under it. Clearing it, as
 * this class did, left them on the 2 s limit, checked once a second.
 */
class ServiceOptionsTest {

  private static final String PROPERTY = GapstreamService.Options.EVENT_LOOP_WARN_PROPERTY;

  private String saved;

  @BeforeEach
  void clearProperty() {
    saved = System.getProperty(PROPERTY);
    System.clearProperty(PROPERTY);
  }

  @AfterEach
  void restoreProperty() {
    if (saved == null) {
      System.clearProperty(PROPERTY);
    } else {
      System.setProperty(PROPERTY, saved);
    }
  }

  @Test
  void theLimitIsTwoSecondsUnlessThePropertySaysOtherwise() {
    assertThat(GapstreamService.Options.fromSystemProperties().maxEventLoopExecuteTime()).isEqualTo(Duration.ofSeconds(2));
    System.setProperty(PROPERTY, "100");
    GapstreamService.Options options = GapstreamService.Options.fromSystemProperties();
    assertThat(options.maxEventLoopExecuteTime()).isEqualTo(Duration.ofMillis(100));
    assertThat(options.vertxOptions().getMaxEventLoopExecuteTime()).isEqualTo(Duration.ofMillis(100).toNanos());
    assertThat(options.vertxOptions().getBlockedThreadCheckInterval()).isEqualTo(50);
  }

  @Test
  void aBadValueFailsNamingTheProperty() {
    for (String bad : new String[] {"0", "-5", "fast", "1.5"}) {
      System.setProperty(PROPERTY, bad);
      assertThatThrownBy(GapstreamService.Options::fromSystemProperties)
          .isInstanceOf(ConfigException.class)
          .hasMessage("system property gapstream.eventloop.warn.ms: a whole number of milliseconds, 1 or more, not '" + bad + "'");
    }
  }
}
