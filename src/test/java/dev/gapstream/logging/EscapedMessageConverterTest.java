package dev.gapstream.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * What a frame's producer writes (a {@code content-type} or {@code frame-id} header) reaches the log
 * through a message's arguments: with a line break it wrote lines of its own into the log, a
 * forged ERROR among them, and with an escape sequence it drove the operator's terminal.
 */
class EscapedMessageConverterTest {

  private static final String FORGED =
      "image/png\n12:00:00.000 ERROR [main] d.g.p.GapstreamService - forged\r\u001b[2J";

  @Test
  void theShippedLayoutKeepsAnArgumentsControlCharactersOnItsOwnLine() throws Exception {
    String line = shippedLayout(event("Frame {} dead-lettered ({}): {}",
        "frames-0-7", "unsupported-format", "content-type '" + FORGED + "' is not supported"));

    assertThat(line).isEqualTo(line.stripTrailing() + System.lineSeparator());
    assertThat(line.stripTrailing())
        .doesNotContain("\n", "\r", "\u001b")
        .endsWith(" - Frame frames-0-7 dead-lettered (unsupported-format): content-type 'image/png\\n12:00:00.000"
            + " ERROR [main] d.g.p.GapstreamService - forged\\r\\u001B[2J' is not supported");
  }

  @Test
  void theMessagesOwnLineBreaksAndPlainArgumentsStayAsWritten() {
    EscapedMessageConverter converter = new EscapedMessageConverter();

    assertThat(converter.convert(event("Effective configuration:\nbatch.max.size = {}", 16)))
        .isEqualTo("Effective configuration:\nbatch.max.size = 16");
    assertThat(converter.convert(event("no arguments, {} left as written\n")))
        .isEqualTo("no arguments, {} left as written\n");
    assertThat(converter.convert(event("tab\tand {} and {}", "a\tb", new int[] {1, 2})))
        .isEqualTo("tab\tand a\\tb and [1, 2]");
    assertThat(converter.convert(event("{} and {}", null, "\u2028")))
        .isEqualTo("null and \\u2028");
  }

  private static LoggingEvent event(String format, Object... args) {
    LoggerContext context = new LoggerContext();
    Logger logger = context.getLogger("test");
    return new LoggingEvent(Logger.class.getName(), logger, Level.WARN, format, null, args.length == 0 ? null : args);
  }

  /** The event as the shipped configuration's appender writes it. */
  @SuppressWarnings("unchecked")
  private static String shippedLayout(ILoggingEvent event) throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    URL shipped = EscapedMessageConverter.class.getResource("/logback.xml");
    configurator.doConfigure(shipped);
    try {
      OutputStreamAppender<ILoggingEvent> appender =
          (OutputStreamAppender<ILoggingEvent>) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
      return new String(appender.getEncoder().encode(event), StandardCharsets.UTF_8);
    } finally {
      context.stop();
    }
  }
}
