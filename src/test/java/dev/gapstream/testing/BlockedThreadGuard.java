package dev.gapstream.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Vert.x's blocked-thread checker warned while it ran: the event loop must
 * never block. Pair it with {@link TestPipelines#TIGHT}, which makes the checker warn after 100 ms.
 */
public final class BlockedThreadGuard implements BeforeAllCallback, AfterAllCallback {

  private static final String CHECKER = "io.vertx.core.impl.BlockedThreadChecker";
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  @Override
  public void beforeAll(ExtensionContext context) {
    appender.start();
    logger().addAppender(appender);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    logger().detachAppender(appender);
    List<String> warnings =
        appender.list.stream()
            .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    if (!warnings.isEmpty()) {
      throw new AssertionError("the event loop was blocked: " + warnings);
    }
  }

  private static Logger logger() {
    return (Logger) LoggerFactory.getLogger(CHECKER);
  }
}
