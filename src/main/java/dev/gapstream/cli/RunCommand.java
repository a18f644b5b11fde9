package dev.gapstream.cli;

import dev.gapstream.pipeline.GapstreamService;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code run}: the service. Runs until SIGTERM or SIGINT, then drains gracefully. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run the pipeline: consume frames, predict, publish. Without kafka.bootstrap.servers an"
          + " embedded Kafka broker is started (zero setup).",
      "Stops gracefully on SIGTERM: polling stops, open batches finish, predictions are published"
          + " and offsets committed."
    })
public final class RunCommand implements Callable<Integer> {

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws InterruptedException {
    GapstreamService service = GapstreamService.start(config.load(Map.of()));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  service.close();
                  stopped.countDown();
                },
                "gapstream-shutdown"));
    stopped.await();
    return 0;
  }
}
