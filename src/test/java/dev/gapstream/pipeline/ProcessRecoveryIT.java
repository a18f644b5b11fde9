package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.ServiceProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gapstream process stopped mid-stream, by SIGTERM (graceful: drain, publish, commit, leave the
 * group) and by {@code kill -9} (nothing flushed), then replaced by a new process that finishes the
 * stream. The broker lives in the test JVM; each gapstream is its own JVM running {@code run}.
 */
class ProcessRecoveryIT {

  private static final int FRAMES = 1_500;
  private static final double RATE = 400;
  /**
   * A killed consumer holds its partitions until its session expires (45 s by default); a short
   * session keeps the test short. The broker's minimum is 6 s.
   */
  static final Map<String, String> SHORT_SESSION =
      Map.of("kafka.consumer.session.timeout.ms", "6000", "kafka.consumer.heartbeat.interval.ms", "1000");
  private static final String GROUP = "gapstream";

  @TempDir Path dir;
  private EmbeddedKafka broker;
  private final List<ServiceProcess> processes = new java.util.ArrayList<>();

  @BeforeEach
  void broker() {
    broker = KafkaState.brokerWithTopics(4);
  }

  @AfterEach
  void stopBroker() {
    try {
      ServiceProcess.closeAll(processes);
    } finally {
      broker.close();
    }
  }

  @Test
  void sigtermDrainsCommitsAndLeavesTheGroupSoTheNextProcessDuplicatesNothing() throws Exception {
    FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "term", 8, FrameFeed.jpegs(32, 64, 64, 1));
    List<String> ids = feed.ids(FRAMES);
    try (Outputs out = Outputs.read(broker.bootstrapServers());
        Admin admin = broker.admin()) {
      ServiceProcess first = service("first");
      CompletableFuture<Void> sending = sendInBackground(feed);
      awaitPredictions(out, ids, FRAMES / 3);

      first.terminate();
      boolean sawNotReady = false;
      while (first.isAlive()) {
        int status = first.status("/health/ready");
        sawNotReady |= status == 503;
        if (status == -1) {
          break;
        }
        TimeUnit.MILLISECONDS.sleep(10);
      }
      first.awaitExit(Duration.ofSeconds(60));
      Outputs.Tally atStop = out.settle(ids, Duration.ofSeconds(2));
      long committed = KafkaState.sum(KafkaState.committed(admin, GROUP, "frames"));
      int members = KafkaState.members(admin, GROUP);
      String firstLog = first.log();

      ServiceProcess second = service("second");
      sending.get(2, TimeUnit.MINUTES);
      Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
      Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(3));
      second.terminate();
      second.awaitExit(Duration.ofSeconds(60));
      System.out.printf(
          "SIGTERM: at stop %s; committed %d; members after exit %d; saw 503 %s; final %s%n",
          atStop, committed, members, sawNotReady, settled);

      assertThat(firstLog).contains("Draining").contains("Pipeline stopped");
      // Readiness going down during a drain is DrainIT's: a drain held open by stalled
      // acknowledgements. This one may end between two polls.
      assertThat(committed)
          .as("every frame published before the stop has its offset committed")
          .isEqualTo(atStop.predicted() + atStop.deadLettered());
      assertThat(members).as("the stopped consumer left the group").isZero();
      assertThat(done.lost()).as(done.toString()).isZero();
      assertThat(settled.predicted()).isEqualTo(FRAMES);
      assertThat(settled.duplicates()).as("graceful stop duplicates nothing").isZero();
      assertThat(settled.both()).as("frames both predicted and dead-lettered").isZero();
    }
  }

  @Test
  void killNineLosesNothingAndPublishesAgainOnlyWhatWasNotCommitted() throws Exception {
    FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "kill", 8, FrameFeed.jpegs(32, 64, 64, 2));
    List<String> ids = feed.ids(FRAMES);
    try (Outputs out = Outputs.read(broker.bootstrapServers())) {
      KillNine run = killNineAndRestart(feed, ids, out, Map.of());
      System.out.printf(
          "kill -9: at kill %s; committed %d; final %s; restart to all done %.1f s%n",
          run.atKill(), run.committedAtKill(), run.settled(), run.recoverySeconds());

      assertThat(run.done().lost()).as(run.done().toString()).isZero();
      assertThat(run.settled().predicted()).as("every frame has at least one prediction").isEqualTo(FRAMES);
      assertThat(run.atKill().predicted() + run.atKill().deadLettered())
          .as("a frame's offset is committed only once its output is published")
          .isGreaterThanOrEqualTo((int) run.committedAtKill());
      assertThat(run.settled().duplicates())
          .as("only frames published after the last commit before the kill are published again")
          .isLessThanOrEqualTo(run.atKill().predicted() + run.atKill().deadLettered() - (int) run.committedAtKill());
    }
  }

  @Test
  void exactlyOnceAcrossKillNineAReadCommittedReaderSeesEachFrameOnce() throws Exception {
    FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "eos", 8, FrameFeed.jpegs(32, 64, 64, 3));
    List<String> ids = feed.ids(FRAMES);
    Map<String, String> eos = Map.of("delivery.guarantee", "exactly-once");
    try (Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"))) {
      KillNine run = killNineAndRestart(feed, ids, out, eos);
      System.out.printf(
          "exactly-once kill -9: at kill %s; final %s; restart to all done %.1f s%n",
          run.atKill(), run.settled(), run.recoverySeconds());

      assertThat(run.secondLog()).contains("exactly-once");
      assertThat(run.done().lost()).as(run.done().toString()).isZero();
      assertThat(run.settled().predicted()).isEqualTo(FRAMES);
      assertThat(run.settled().duplicates()).as("read_committed sees each prediction once").isZero();
    }
  }

  /**
   * A zombie: the first replica stands still (SIGSTOP, as in a long GC pause) with a transaction
   * open, the group gives its partitions to a second replica once its session expires, and then it
   * wakes and goes on where it stood. It must commit nothing: committed, its predictions and
   * offsets would join the second replica's, which published the same frames. Whichever it meets
   * first, its consumer finding the partitions lost or its next commit refused for an old
   * generation (the group-id-only metadata it committed with before let the broker take it), it
   * aborts its transaction, leaves the group and exits with status 1 for a restart. Before the
   * partitions-lost path, a consumer that rejoined first committed with its new generation: 7
   * duplicates in one of some eight runs.
   */
  @Test
  void exactlyOnceAReplicaThatWakesAfterTheGroupMovedOnCommitsNothing() throws Exception {
    FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "zombie", 8, FrameFeed.jpegs(32, 64, 64, 4));
    try (Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"))) {
      ServiceProcess first = service("first", eos("zombie-first"));
      ServiceProcess second;
      int atFreeze;
      List<String> ids;
      try (FrameFeed.Stream sending = feed.stream(150)) {
        awaitPredictions(out, feed.ids(300), 300);
        first.freeze();
        atFreeze = out.tally(feed.ids(sending.sent())).predicted();
        // Ready once it has the partitions, after the first one's session (6 s) expired. Its
        // predictions stay invisible to read_committed readers while the first one's transaction
        // is open; so it is woken within the transaction's timeout (a minute), with it still open.
        second = service("second", eos("zombie-second"));
        TimeUnit.SECONDS.sleep(3);
        first.wake();
        ids = sending.stopAfter(300, Duration.ofMinutes(1)); // two seconds' more
      }
      int frames = ids.size();
      Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
      Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(5));
      int firstExit = first.awaitExit(Duration.ofSeconds(60));
      String firstLog = first.log();
      second.terminate();
      second.awaitExit(Duration.ofSeconds(60));
      System.out.printf(
          "zombie: %d predicted at the freeze; the woken replica's exit status %d; final %s%n",
          atFreeze, firstExit, settled);

      assertThat(done.lost()).as(done.toString()).isZero();
      assertThat(settled.predicted()).isEqualTo(frames);
      assertThat(settled.duplicates()).as("the woken replica committed nothing").isZero();
      assertThat(settled.both()).as("frames both predicted and dead-lettered").isZero();
      assertThat(firstLog).contains("restart required");
      assertThat(firstExit).as("it exits, to be restarted").isEqualTo(1);
    }
  }

  private static Map<String, String> eos(String transactionalId) {
    return Map.of("delivery.guarantee", "exactly-once", "delivery.transactional.id", transactionalId);
  }

  /** What a kill -9 run saw: when the first process died, once all was done, and after settling. */
  private record KillNine(
      Outputs.Tally atKill,
      long committedAtKill,
      Outputs.Tally done,
      Outputs.Tally settled,
      double recoverySeconds,
      String secondLog) {}

  /**
   * Starts a service, feeds it in the background, kills it with SIGKILL a third of the way in,
   * starts a second one in the same group and waits until every frame has a prediction.
   */
  private KillNine killNineAndRestart(FrameFeed feed, List<String> ids, Outputs out, Map<String, String> extra)
      throws Exception {
    ServiceProcess first = service("first", extra);
    CompletableFuture<Void> sending = sendInBackground(feed);
    awaitPredictions(out, ids, FRAMES / 3);
    first.kill();
    first.awaitExit(Duration.ofSeconds(30));
    Outputs.Tally atKill = out.settle(ids, Duration.ofSeconds(1));
    long committedAtKill;
    try (Admin admin = broker.admin()) {
      committedAtKill = KafkaState.sum(KafkaState.committed(admin, GROUP, "frames"));
    }

    long restartAt = System.nanoTime();
    ServiceProcess second = service("second", extra);
    sending.get(2, TimeUnit.MINUTES);
    Outputs.Tally done = out.await(ids, Duration.ofMinutes(2));
    double recoverySeconds = (System.nanoTime() - restartAt) / 1e9;
    Outputs.Tally settled = out.settle(ids, Duration.ofSeconds(3));
    second.terminate();
    second.awaitExit(Duration.ofSeconds(60));
    return new KillNine(atKill, committedAtKill, done, settled, recoverySeconds, second.log());
  }

  private ServiceProcess service(String name) throws Exception {
    return service(name, Map.of());
  }

  private ServiceProcess service(String name, Map<String, String> extra) throws Exception {
    Map<String, String> settings = new java.util.HashMap<>(SHORT_SESSION);
    settings.putAll(extra);
    settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
    settings.put("kafka.group.id", GROUP);
    ServiceProcess process = ServiceProcess.start(name, dir, settings, List.of());
    processes.add(process);
    return process
        .awaitRunning(Duration.ofSeconds(60))
        .awaitReady(Duration.ofSeconds(60));
  }

  private static CompletableFuture<Void> sendInBackground(FrameFeed feed) {
    return CompletableFuture.runAsync(() -> {
      try {
        feed.send(0, FRAMES, RATE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  private static void awaitPredictions(Outputs out, List<String> ids, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (out.tally(ids).predicted() < count && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
    }
    assertThat(out.tally(ids).predicted()).isGreaterThanOrEqualTo(count);
  }
}
