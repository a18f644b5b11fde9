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
 * Fails a test class when Vert.x's blocked-thread checker warned while it ran: the event loop must
 * never block. Pair it with {@link TestPipelines#TIGHT}, which makes the checker warn after 100 ms
 * and log the blocked thread's stack with each warning.
 *
 * <p>One kind of warning is not a block: a stack captured with the event loop back in its selector,
 * waiting for I/O. On a starved machine the checker can see a short task as long because the thread
 * was descheduled (or the JVM paused) mid-task; by the time the stack is taken the loop is idle. A
 * real block of the checker's interval or more is sampled again while it lasts, with the culprit on
 * the stack, so ignoring idle samples loses nothing that matters.
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
            .filter(e -> !idleInSelector(e.getThrowableProxy()))
            .map(e -> e.getFormattedMessage() + at(e.getThrowableProxy()))
            .toList();
    if (!blocked.isEmpty()) {
      throw new AssertionError("the event loop was blocked: " + blocked);
    }
  }

  /** True when the sampled stack's first frame outside the JDK is netty's selector wait. */
  static boolean idleInSelector(IThrowableProxy stack) {
    if (stack == null) {
      return false; // no stack to judge by: count it
    }
    for (StackTraceElementProxy frame : stack.getStackTraceElementProxyArray()) {
      StackTraceElement e = frame.getStackTraceElement();
      String cls = e.getClassName();
      if (!cls.startsWith("sun.nio.ch.") && !cls.startsWith("java.") && !cls.startsWith("jdk.")) {
        return cls.startsWith("io.netty.channel.nio.") && e.getMethodName().equals("select");
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
