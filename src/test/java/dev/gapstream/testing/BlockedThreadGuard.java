package dev.gapstream.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.time.Instant;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Vert.x's blocked-thread checker caught gapstream's code blocking an event
 * loop: the event loop must never block. Pair it with {@link TestPipelines#TIGHT}, which makes the
 * checker look every 50 ms, warn once a task has run 100 ms and log the thread's stack with each
 * warning.
 *
 * <p>A block counts when the checker saw the same task at least twice — it ran past the limit by
 * a check interval: 150 to 200 ms here, by when the checker looks — and one of those stacks holds a {@code dev.gapstream} frame (our
 * handler, or whatever it called: a decoder, a model, a client constructor, a class loaded on first
 * use), or has no stack to judge by. A real block by our code is sampled at every check while it
 * lasts. A single sample is what a loaded 2-core machine does to a thread on its own: a garbage
 * collection or a descheduled loop stalls a task of a few microseconds past the limit, and by the
 * next check it is done. (One CI run failed on such a sample: a task 100 ms old whose stack was the
 * first line of a send-completion handler.) A stack of Vert.x and netty alone — the loop idle in its
 * selector, or flushing a response to a socket — never counts.
 */
public final class BlockedThreadGuard implements BeforeAllCallback, AfterAllCallback {

  private static final String CHECKER = "io.vertx.core.impl.BlockedThreadChecker";
  private static final Pattern WARNING = Pattern.compile("Thread (.+) has been blocked for (\\d+) ms");
  /** The checker's warning: how long blocked, and (group 3) the limit. */
  private static final Pattern WARNING_LIMIT = Pattern.compile("blocked for (\\d+)( ms, time limit is (\\d+) ms)");
  /** A pause in the JVM's collection log with the {@code time} decoration: its end, its length. */
  private static final Pattern GC_PAUSE =
      Pattern.compile("^\\[\\d{4}-\\d\\d-\\d\\dT(\\d\\d:\\d\\d:\\d\\d\\.\\d{3})[^\\]]*].*GC\\(\\d+\\) Pause.* (\\d+(?:\\.\\d+)?)ms$");
  /** A line of {@code logback.xml}'s pattern: time, level, thread, logger, message. */
  private static final Pattern LOG_LINE =
      Pattern.compile("(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) (\\w+)\\s+\\[.*?] (\\S+) - (.*)");
  /** A frame of a logged stack: {@code at [module/]class.method(...)}. */
  private static final Pattern STACK_FRAME = Pattern.compile("^\\s+at (?:\\S+/)?([\\w.$]+)\\.([\\w$<>]+)\\(");

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  @Override
  public void beforeAll(ExtensionContext context) {
    appender.start();
    logger().addAppender(appender);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    logger().detachAppender(appender);
    List<ILoggingEvent> events;
    synchronized (appender) { // an append may still be under way: it holds the appender's lock
      events = List.copyOf(appender.list);
    }
    List<String> blocked = blocks(events);
    if (!blocked.isEmpty()) {
      throw new AssertionError("the event loop was blocked: " + blocked);
    }
  }

  /**
   * As {@link #blocks(List)}, for the checker's warnings in the log of a service process of its own
   * (in {@code logback.xml}'s pattern, each warning followed by its stack).
   */
  public static List<String> blocksInLog(String log) {
    List<ILoggingEvent> events = new ArrayList<>();
    String[] lines = log.split("\n");
    List<long[]> pauses = collectionPauses(lines);
    for (int i = 0; i < lines.length; i++) {
      Matcher m = LOG_LINE.matcher(lines[i]);
      if (!m.matches() || !m.group(3).endsWith("BlockedThreadChecker")) {
        continue;
      }
      long millisOfDay = LocalTime.parse(m.group(1)).toNanoOfDay() / 1_000_000;
      List<StackTraceElement> stack = new ArrayList<>();
      while (i + 1 < lines.length && !LOG_LINE.matcher(lines[i + 1]).matches()) {
        Matcher frame = STACK_FRAME.matcher(lines[++i]);
        if (frame.find()) {
          stack.add(new StackTraceElement(frame.group(1), frame.group(2), null, -1));
        }
      }
      String message = m.group(4);
      Matcher warning = WARNING_LIMIT.matcher(message);
      if (warning.find()) {
        // Time the whole process stood still for a collection is no block of the loop's: a heap
        // kept small on purpose stalls a task past the limit in two samples, collection after
        // collection (a trivial task seen at 100 ms and again at 297, 150 of them collecting).
        long blockedMs = Long.parseLong(warning.group(1));
        long outside = blockedMs - overlap(pauses, millisOfDay - blockedMs, millisOfDay);
        if (outside < Long.parseLong(warning.group(3))) {
          continue;
        }
        message = message.substring(0, warning.start(1)) + outside + " ms outside collections, "
            + blockedMs + message.substring(warning.end(1));
      }
      LoggingEvent event = new LoggingEvent();
      event.setLevel(Level.toLevel(m.group(2)));
      event.setMessage(message);
      event.setInstant(Instant.ofEpochMilli(millisOfDay));
      if (!stack.isEmpty()) {
        Throwable blocked = new Throwable("Thread blocked");
        blocked.setStackTrace(stack.toArray(StackTraceElement[]::new));
        event.setThrowableProxy(new ThrowableProxy(blocked));
      }
      events.add(event);
    }
    return blocks(events);
  }

  /**
   * The collections' pauses a log holds ({@code -Xlog:gc:stdout:time}, as {@link ServiceProcess}
   * starts its process), each {@code [start, end]} in milliseconds of the day.
   */
  private static List<long[]> collectionPauses(String[] lines) {
    List<long[]> pauses = new ArrayList<>();
    for (String line : lines) {
      Matcher m = GC_PAUSE.matcher(line);
      if (m.find()) {
        long end = LocalTime.parse(m.group(1)).toNanoOfDay() / 1_000_000;
        pauses.add(new long[] {end - (long) Math.ceil(Double.parseDouble(m.group(2))), end});
      }
    }
    return pauses;
  }

  /** Milliseconds of {@code pauses} within {@code [from, to]}. */
  private static long overlap(List<long[]> pauses, long from, long to) {
    long total = 0;
    for (long[] p : pauses) {
      total += Math.max(0, Math.min(to, p[1]) - Math.max(from, p[0]));
    }
    return total;
  }

  /** The blocks by our code among the checker's warnings, one line and stack for each sample. */
  static List<String> blocks(List<ILoggingEvent> events) {
    List<Sample> samples = new ArrayList<>();
    for (ILoggingEvent event : events) {
      if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
        samples.add(Sample.of(event));
      }
    }
    List<String> blocked = new ArrayList<>();
    for (Sample sample : samples) {
      List<Sample> task =
          sample.thread == null ? List.of(sample) : samples.stream().filter(sample::sameTask).toList();
      boolean counts = sample.thread == null || task.size() >= 2;
      if (counts && task.stream().anyMatch(s -> ourCodeBlocked(s.stack))) {
        blocked.add(sample.event.getFormattedMessage() + at(sample.stack));
      }
    }
    return blocked;
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

  /**
   * One warning: which thread, and when the task it found running had started, by the warning's
   * time less the time blocked. A warning in a form this does not know has no thread, and counts on
   * its own.
   */
  private record Sample(ILoggingEvent event, String thread, long startedAt, IThrowableProxy stack) {
    static Sample of(ILoggingEvent event) {
      Matcher m = WARNING.matcher(event.getFormattedMessage());
      if (!m.find()) {
        return new Sample(event, null, 0, event.getThrowableProxy());
      }
      long startedAt = event.getTimeStamp() - Long.parseLong(m.group(2));
      return new Sample(event, m.group(1), startedAt, event.getThrowableProxy());
    }

    /**
     * Whether both found one task running. The warning's time is taken after the check (the
     * stack, the logging of the warnings before it), a little later on a loaded machine: so a task's
     * start comes out late, never early, by a varying amount. A task that started before the other
     * warning was logged is the one that warning saw: a later task only starts once that one ends.
     */
    boolean sameTask(Sample other) {
      if (thread == null || !thread.equals(other.thread)) {
        return false;
      }
      Sample earlier = event.getTimeStamp() <= other.event.getTimeStamp() ? this : other;
      Sample later = earlier == this ? other : this;
      return later.startedAt < earlier.event.getTimeStamp();
    }
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
