package dev.gapstream.cli;

import dev.gapstream.bench.EncodedFrame;
import dev.gapstream.bench.OpenLoad;
import dev.gapstream.bench.ReportJson;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code load}: an open-loop load against a gapstream that is already running, and its end-to-end
 * latency (see {@link OpenLoad}).
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = {
      "Offer frames at a fixed rate to a running gapstream (any Kafka cluster) and measure each"
          + " frame's time to its prediction: p50, p99, p99.9 and where the time went. Run it on"
          + " another machine than the pipeline's to measure the pipeline alone; the clocks must"
          + " agree (NTP), since the prediction's timestamp comes from the pipeline's."
    })
public final class LoadCommand implements Callable<Integer> {

  @Mixin KafkaClientOptions kafka;

  @Option(names = {"-t", "--topic"}, defaultValue = "frames", description = "Frames topic (default: ${DEFAULT-VALUE}).")
  String framesTopic;

  @Option(
      names = {"-p", "--predictions-topic"},
      defaultValue = "predictions",
      description = "Predictions topic (default: ${DEFAULT-VALUE}).")
  String predictionsTopic;

  @Option(names = "--rate", required = true, description = "Frames per second offered.")
  double rate;

  @Option(names = "--duration", defaultValue = "PT30S", description = "Counted time at the rate (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--warmup",
      defaultValue = "PT10S",
      description = "Time at the rate before it, not counted (default: ${DEFAULT-VALUE}).")
  Duration warmUp;

  @Option(
      names = "--timeout",
      defaultValue = "PT60S",
      description = "How long to wait for the predictions after the last frame (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Mixin FrameSourceOptions frameSource;

  @Option(names = "--json", description = "Print the report as one JSON object on stdout instead of a table.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    // Each option on its own, then what they come to together (the frames one run offers).
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new ParameterException(spec.commandLine(), "--rate: a positive number of frames per second, got " + rate);
    }
    if (warmUp.isNegative()) {
      throw new ParameterException(spec.commandLine(), "--warmup: 0 or more, got " + warmUp);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new ParameterException(spec.commandLine(), "--duration: more than 0, got " + duration);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ParameterException(spec.commandLine(), "--timeout: more than 0, got " + timeout);
    }
    OpenLoad.Settings settings;
    try {
      settings = new OpenLoad.Settings(kafka.client(), framesTopic, predictionsTopic, rate, warmUp, duration, timeout);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--rate, --warmup, --duration: " + e.getMessage());
    }
    int count = settings.warmFrames() + settings.countedFrames();
    List<EncodedFrame> frames = frameSource.frames(count);
    PrintWriter err = spec.commandLine().getErr();
    OpenLoad.Report report =
        OpenLoad.run(settings, frames, status -> {
          err.print("\rload: " + status + "   ");
          err.flush();
        });
    err.println();
    if (json) {
      err.print(report.table());
    }
    err.flush();
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? ReportJson.format(report) + "\n" : report.table());
    out.flush();
    return report.complete() ? 0 : 1;
  }
}
