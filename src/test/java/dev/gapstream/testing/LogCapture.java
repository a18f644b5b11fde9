package dev.gapstream.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What a class logs while this is open: {@code try (LogCapture log = LogCapture.of(X.class)) {...}}.
 * Closing it detaches it and puts the logger's level back.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final Level level;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Class<?> source, Level atLeast) {
    logger = (Logger) LoggerFactory.getLogger(source);
    level = logger.getLevel();
    if (atLeast != null) {
      logger.setLevel(atLeast);
    }
    appender.start();
    logger.addAppender(appender);
  }

  /** What {@code source} logs at the levels its configuration lets through. */
  public static LogCapture of(Class<?> source) {
    return new LogCapture(source, null);
  }

  /** What {@code source} logs at {@code level} and above, whatever its configuration says. */
  public static LogCapture of(Class<?> source, Level level) {
    return new LogCapture(source, level);
  }

  /** The events so far, in order. */
  public List<ILoggingEvent> events() {
    synchronized (appender) { // AppenderBase appends under the appender's lock, from any thread
      return List.copyOf(appender.list);
    }
  }

  /** The events' messages so far, formatted, in order. */
  public List<String> messages() {
    return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(level);
  }
}
