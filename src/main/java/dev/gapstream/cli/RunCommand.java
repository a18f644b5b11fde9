package dev.gapstream.cli;

import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.pipeline.GapstreamService;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code run}: the service. Runs until SIGTERM or SIGINT, then drains gracefully; or until the
 * pipeline fails in a way only a restart mends, when it closes and exits with status 1, so that
 * whatever supervises it (Kubernetes, compose's restart policy, systemd) starts it again. Staying
 * up and answering 503 on {@code /health/live} left that to a liveness probe, which compose and
 * systemd do not have.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run the pipeline: consume frames, predict, publish. Without kafka.bootstrap.servers an"
          + " embedded Kafka broker is started (zero setup).",
      "Stops gracefully on SIGTERM: polling stops, open batches finish, predictions are published"
          + " and offsets committed.",
      "Exits with status 1 when the pipeline fails in a way only a restart mends (the log says why)."
    })
public final class RunCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws InterruptedException {
    GapstreamConfig loaded = config.load(Map.of());
    if (loaded.kafka().useEmbedded()) {
      // Zero setup on a laptop; in a deployment, a lost setting: ready, consuming a broker of its own.
      LOG.warn("kafka.bootstrap.servers is empty: consuming an embedded broker in this process, not a cluster");
    }
    GapstreamService service = GapstreamService.start(loaded);
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean signalled = new AtomicBoolean();
    try {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    signalled.set(true);
                    service.close();
                    stopped.countDown();
                  },
                  "gapstream-shutdown"));
    } catch (IllegalStateException shuttingDown) {
      return 0; // a signal came as the start ended: the service's own exit hook closes it
    }
    service.health().whenDown().thenRun(stopped::countDown);
    stopped.await();
    if (signalled.get() || service.health().isLive()) {
      return 0; // a signal: the JVM is exiting already, with the signal's status
    }
    LOG.error("Exiting with status 1 so that gapstream is restarted");
    service.close();
    return 1;
  }
}
