package dev.gapstream.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Vert.x's blocked-thread checker caught gapstream's code blocking an event
 * loop: the event loop must never block. Pair it with {@link TestPipelines#TIGHT}, which makes the
 * checker warn after 100 ms and log the blocked thread's stack with each warning.
 *
 * <p>A warning counts when its stack holds a {@code dev.gapstream} frame (our handler, or whatever
 * it called: a decoder, a model, a client constructor, a class loaded on first use), or when it has
 * no stack to judge by. A stack of Vert.x and netty alone — the loop idle in its selector, or
 * flushing a response to a socket — is the machine starving the thread, not a slip of ours: on a
 * loaded 2-core machine a descheduled loop can look blocked for a while. A real block by our code
 * is sampled every check interval while it lasts, with our frames on the stack.
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
    List<String> blocked =
        appender.list.stream()
            .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
            .filter(e -> ourCodeBlocked(e.getThrowableProxy()))
            .map(e -> e.getFormattedMessage() + at(e.getThrowableProxy()))
            .toList();
    if (!blocked.isEmpty()) {
      throw new AssertionError("the event loop was blocked: " + blocked);
    }
  }

  /** True when the sampled stack holds gapstream's code, or there is no stack to tell. */
  static boolean ourCodeBlocked(IThrowableProxy stack) {
    if (stack == null || stack.getStackTraceElementProxyArray().length == 0) {
      return true;
    }
    for (StackTraceElementProxy frame : stack.getStackTraceElementProxyArray()) {
      if (frame.getStackTraceElement().getClassName().startsWith("dev.gapstream.")) {
        return true;
      }
    }
    return false;
  }

  private static String at(IThrowableProxy stack) {
    if (stack == null || stack.getStackTraceElementProxyArray().length == 0) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    StackTraceElementProxy[] frames = stack.getStackTraceElementProxyArray();
    for (int i = 0; i < Math.min(8, frames.length); i++) {
      out.append("\n    at ").append(frames[i].getStackTraceElement());
    }
    return out.toString();
  }

  private static Logger logger() {
    return (Logger) LoggerFactory.getLogger(CHECKER);
  }
}
