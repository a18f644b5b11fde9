package dev.gapstream.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class BlockedThreadGuardTest {

  private static final StackTraceElement[] OUR_HANDLER = {
    at("dev.gapstream.pipeline.Outbox", "lambda$attempt$0"),
    at("io.vertx.core.impl.future.FutureImpl", "emitResult"),
    at("io.netty.channel.nio.NioIoHandler", "run")
  };

  private static ThrowableProxy stack(StackTraceElement... frames) {
    Exception e = new Exception("Thread blocked");
    e.setStackTrace(frames);
    return new ThrowableProxy(e);
  }

  private static StackTraceElement at(String cls, String method) {
    return new StackTraceElement(cls, method, null, 1);
  }

  /** A checker warning logged at {@code atMs}, for a task that had run {@code blockedMs} by then. */
  private static ILoggingEvent warning(String thread, long atMs, long blockedMs, StackTraceElement... frames) {
    LoggingEvent event = new LoggingEvent();
    event.setLevel(Level.WARN);
    event.setMessage("Thread " + thread + " has been blocked for " + blockedMs + " ms, time limit is 100 ms");
    event.setTimeStamp(atMs);
    event.setThrowableProxy(stack(frames));
    return event;
  }

  @Test
  void ourCodeOnTheStackIsABlockWhateverIsAboveIt() {
    assertThat(BlockedThreadGuard.ourCodeBlocked(stack(
            at("java.lang.Thread", "sleep"),
            at("javax.imageio.ImageIO", "read"),
            at("dev.gapstream.pipeline.PipelineVerticle", "onRecord"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isTrue();
    assertThat(BlockedThreadGuard.ourCodeBlocked(null)).as("no stack to judge by").isTrue();
  }

  @Test
  void aLoopIdleInItsSelectorOrFlushingASocketIsNotOurBlock() {
    assertThat(BlockedThreadGuard.ourCodeBlocked(stack(
            at("sun.nio.ch.EPoll", "wait"),
            at("io.netty.channel.nio.SelectedSelectionKeySetSelector", "select"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isFalse();
    assertThat(BlockedThreadGuard.ourCodeBlocked(stack(
            at("sun.nio.ch.FileDispatcherImpl", "writev0"),
            at("io.netty.channel.socket.nio.NioSocketChannel", "doWrite"),
            at("io.netty.channel.nio.NioIoHandler", "run"))))
        .isFalse();
  }

  @Test
  void aTaskSampledTwiceWithOurCodeIsABlockAndOneSampledOnceIsAStall() {
    assertThat(BlockedThreadGuard.blocks(List.of(
            warning("vert.x-eventloop-thread-1", 10_100, 100, OUR_HANDLER))))
        .as("one sample: the machine stalled the loop, and by the next check the task was done")
        .isEmpty();
    assertThat(BlockedThreadGuard.blocks(List.of(
            warning("vert.x-eventloop-thread-1", 10_100, 100, OUR_HANDLER),
            warning("vert.x-eventloop-thread-1", 10_153, 150, OUR_HANDLER))))
        .as("the same task, started at 10,000 ms, still running at the next check")
        .hasSize(2);
    assertThat(BlockedThreadGuard.blocks(List.of(
            warning("vert.x-eventloop-thread-1", 10_100, 100, OUR_HANDLER),
            warning("vert.x-eventloop-thread-1", 10_230, 150, OUR_HANDLER))))
        .as("the same task, its second warning logged 80 ms late: it started before the first was logged")
        .hasSize(2);
    assertThat(BlockedThreadGuard.blocks(List.of(
            warning("vert.x-eventloop-thread-1", 10_100, 100, OUR_HANDLER),
            warning("vert.x-eventloop-thread-1", 30_100, 100, OUR_HANDLER),
            warning("vert.x-eventloop-thread-0", 10_150, 150, OUR_HANDLER))))
        .as("two stalls of one loop 20 s apart, and one of another loop: three tasks, each seen once")
        .isEmpty();
    assertThat(BlockedThreadGuard.blocks(List.of(
            warning("vert.x-eventloop-thread-1", 10_100, 100, at("sun.nio.ch.EPoll", "wait")),
            warning("vert.x-eventloop-thread-1", 10_150, 150, at("sun.nio.ch.EPoll", "wait")))))
        .as("a loop that long in its selector is starved, not blocked by us")
        .isEmpty();
  }

  @Test
  void aWarningInAFormTheGuardDoesNotKnowCountsOnItsOwn() {
    LoggingEvent event = new LoggingEvent();
    event.setLevel(Level.WARN);
    event.setMessage("event loop stuck");
    event.setThrowableProxy(stack(OUR_HANDLER));
    assertThat(BlockedThreadGuard.blocks(List.of(event))).hasSize(1);
  }

  /**
   * A service process's log: a trivial task seen at 100 ms and again at 297 counts as a block, but
   * not where 150 ms between the two were a collection's pause, which stopped every thread (as in a
   * CI run of BackpressureIT's small heap); a real block with a short collection in it still counts.
   */
  @Test
  void timeInCollectionsIsNoBlockOfTheLoops() {
    String warnings = checkerWarning("04:10:00.100", 100) + checkerWarning("04:10:00.297", 297);
    assertThat(BlockedThreadGuard.blocksInLog(warnings)).as("no collection logged").hasSize(2);
    String collecting =
        "[2026-12-02T04:10:00.270+0000] GC(7) Pause Full (Allocation Failure) 380M->300M(384M) 150.512ms\n";
    assertThat(BlockedThreadGuard.blocksInLog(warnings + collecting)).isEmpty();
    String shortCollection =
        "[2026-12-02T04:10:00.200+0000] GC(8) Pause Young (Allocation Failure) 100M->20M(384M) 20.000ms\n";
    assertThat(BlockedThreadGuard.blocksInLog(shortCollection + warnings))
        .as("blocked 277 ms outside the collection")
        .hasSize(2)
        .anySatisfy(block -> assertThat(block).contains("blocked for 277 ms outside collections, 297 ms, time limit is 100 ms"));
  }

  private static String checkerWarning(String time, long blockedMs) {
    return time + " WARN  [vertx-blocked-thread-checker] i.v.c.i.BlockedThreadChecker - Thread"
        + " Thread[vert.x-eventloop-thread-1,5,main] has been blocked for " + blockedMs + " ms, time limit is 100 ms\n"
        + "io.vertx.core.VertxException: Thread blocked\n"
        + "\tat io.vertx.core.impl.future.FutureBase.eventually(Unknown Source)\n"
        + "\tat dev.gapstream.pipeline.OffsetCommitter.startCommit(Unknown Source)\n";
  }

  /** The checker's own warnings, for a real block and a real short task, under the tests' settings. */
  @Test
  void vertxsCheckerUnderTheTestSettingsCatchesARealBlockAndPassesAShortTask() throws Exception {
    Logger checker = (Logger) LoggerFactory.getLogger("io.vertx.core.impl.BlockedThreadChecker");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    checker.addAppender(appender);
    Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    try {
      runOnLoop(vertx, 2);
      Thread.sleep(200);
      assertThat(BlockedThreadGuard.blocks(warnings(appender))).as("a 2 ms task").isEmpty();
      assertThat(BlockedThreadGuard.blocksInLog(asLogged(warnings(appender), checker))).isEmpty();
      runOnLoop(vertx, 400);
      assertThat(BlockedThreadGuard.blocks(warnings(appender)))
          .as("a 400 ms sleep on the loop")
          .anySatisfy(block -> assertThat(block).contains(BlockedThreadGuardTest.class.getName()));
      // The same warnings as a service process's log has them (ServiceProcess reads that).
      String log = asLogged(warnings(appender), checker);
      assertThat(BlockedThreadGuard.blocksInLog("12:00:00.000 INFO  [main] d.g.Main - started\n" + log))
          .as("the 400 ms sleep, read from the log's text")
          .anySatisfy(block -> assertThat(block).contains(BlockedThreadGuardTest.class.getName()));
    } finally {
      checker.detachAppender(appender);
      vertx.close().await();
    }
  }

  /** {@code events} as {@code logback.xml} writes them, each with its stack. */
  private static String asLogged(List<ILoggingEvent> events, Logger logger) {
    PatternLayout layout = new PatternLayout();
    layout.setContext(logger.getLoggerContext());
    layout.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n");
    layout.start();
    StringBuilder text = new StringBuilder();
    events.forEach(e -> text.append(layout.doLayout(e)));
    return text.toString();
  }

  private static List<ILoggingEvent> warnings(ListAppender<ILoggingEvent> appender) {
    synchronized (appender) { // the checker's thread appends under the appender's lock
      return List.copyOf(appender.list);
    }
  }

  private static void runOnLoop(Vertx vertx, long sleepMs) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    vertx.runOnContext(v -> {
      try {
        Thread.sleep(sleepMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      done.countDown();
    });
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
  }
}
