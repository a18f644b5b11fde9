package dev.gapstream.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URL;
import org.junit.jupiter.api.Test;

/** The shipped logback configuration drops Micrometer's warning about Vert.x's gauges, and only that. */
class VertxGaugeNoiseTest {

  private static final String WARNING = "This Gauge has been already registered (MeterId{name='%s', tags=[]}),"
      + " the registration will be ignored. Note that subsequent logs will be logged at debug level.";

  @Test
  void theShippedConfigurationDropsTheWarningAboutVertxGaugesOnly() throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    URL shipped = VertxGaugeNoise.class.getResource("/logback.xml");
    configurator.doConfigure(shipped);
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.setContext(context);
    seen.start();
    Logger micrometer = context.getLogger(VertxGaugeNoise.LOGGER);
    micrometer.addAppender(seen);
    try {
      micrometer.warn(String.format(WARNING, "vertx.http.server.active.connections"));
      micrometer.warn(String.format(WARNING, "gapstream.frames.in.flight"));
      micrometer.warn("Another warning about vertx.http.server.active.connections");
    } finally {
      context.stop();
    }
    assertThat(seen.list).extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly(
            String.format(WARNING, "gapstream.frames.in.flight"),
            "Another warning about vertx.http.server.active.connections");
  }
}
