package dev.gapstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrames;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code demo}: the whole product on one machine with zero setup. An embedded Kafka broker, the
 * pipeline with the shipped model, and a producer of synthetic labelled frames; a live progress
 * line on stderr, then one JSON summary line on stdout.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the pipeline on an embedded Kafka broker, feed it synthetic labelled frames, and print a"
          + " summary: the last line on stdout is JSON with frames, predictions, deadLetters,"
          + " duplicates, accuracy, throughputFps, p50Ms, p99Ms (end to end) and meanBatchSize."
    })
public final class DemoCommand implements Callable<Integer> {

  @Option(names = "--frames", defaultValue = "2000", description = "Frames to send (default: ${DEFAULT-VALUE}).")
  int frames;

  @Option(names = "--rate", defaultValue = "0", description = "Frames per second; 0 = as fast as possible (default).")
  double rate;

  @Option(names = "--seed", defaultValue = "20261128", description = "Seed of the synthetic frames.")
  long seed;

  @Option(
      names = "--sizes",
      split = ",",
      paramLabel = "WxH",
      description =
          "Frame sizes, comma-separated, e.g. 1920x1080 (default: the camera-like set"
              + " 64x64..256x256). Frames longer than the model's maxSide are scaled down to it"
              + " (ingest.resize.max.side).")
  List<String> sizes;

  @Option(
      names = "--timeout",
      defaultValue = "PT5M",
      description = "How long to wait for the last answers once the last frame is sent (ISO-8601,"
          + " default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Mixin ConfigOptions config;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    // Checked before the broker and the model start, which take a while.
    if (frames < 1) {
      throw new ParameterException(spec.commandLine(), "--frames: at least 1, got " + frames);
    }
    if (timeout.isNegative()) {
      throw new ParameterException(spec.commandLine(), "--timeout: 0 or more, got " + timeout);
    }
    if (!(rate >= 0)) {
      throw new ParameterException(spec.commandLine(), "--rate: 0 (as fast as possible) or more, got " + rate);
    }
    List<FrameSize> frameSizes;
    try {
      frameSizes = FrameSize.parseAll(sizes, SyntheticFrames.DEFAULT_SIZES);
      SyntheticFrames.check(frameSizes);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--sizes: " + e.getMessage());
    }
    // Its own producer and reader carry no security settings, and its topics are its own: a cluster
    // named here was used without them, or (from the file or the environment) ignored unsaid.
    String brokers = config.overrides.getOrDefault(ConfigKeys.KAFKA_BOOTSTRAP_SERVERS, "");
    if (!brokers.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--set " + ConfigKeys.KAFKA_BOOTSTRAP_SERVERS + "=" + brokers
          + ": demo runs on an embedded broker of its own; on a cluster, use run, and produce or load to feed it");
    }
    GapstreamConfig loaded = config.load(Demo.defaults());
    // The embedded broker speaks plaintext: a security setting (from a deployment's app.yaml, say)
    // made the pipeline's clients fail to connect, and the demo wait out --timeout.
    for (Map.Entry<String, Map<String, String>> client :
        Map.of("kafka.consumer.", loaded.kafka().consumer(), "kafka.producer.", loaded.kafka().producer()).entrySet()) {
      for (String key : client.getValue().keySet()) {
        if (key.startsWith("security.") || key.startsWith("sasl.") || key.startsWith("ssl.")) {
          throw new ParameterException(spec.commandLine(), client.getKey() + key
              + ": demo runs on an embedded plaintext broker of its own; leave the clients' security settings"
              + " to run, on a cluster");
        }
      }
    }
    // Frames the model cannot take would all be dead-lettered (bad-shape), and the demo show nothing.
    ModelSpec model = ModelSpec.load(loaded.inference().existingModelFile());
    for (FrameSize size : frameSizes) {
      if (size.width() < model.minWidth() || size.height() < model.minHeight()) {
        throw new ParameterException(spec.commandLine(), "--sizes: " + size + " is smaller than the model's minimum"
            + " input " + model.minWidth() + "x" + model.minHeight() + " (" + model.name() + "): every such frame"
            + " would be dead-lettered as bad-shape");
      }
    }
    PrintWriter err = spec.commandLine().getErr();
    try (GapstreamService service = GapstreamService.start(loaded)) {
      err.printf("demo: management on http://localhost:%d/metrics%n", service.httpPort());
      if (service.config().liveViewEnabled()) {
        err.printf("demo: live view on http://localhost:%d/live%n", service.httpPort());
      }
      err.flush();
      Demo.Summary summary =
          new Demo(service, frames, rate, seed, frameSizes).run(timeout, status -> {
            err.print("\rdemo: " + status + "   ");
            err.flush();
          });
      err.println();
      long unanswered = frames - summary.predictions() - summary.deadLetters();
      if (unanswered > 0) {
        err.printf("demo: gave up %s after the last frame was sent, %d of %d frames unanswered (--timeout)%n",
            timeout, unanswered, frames);
      }
      err.flush();
      PrintWriter out = spec.commandLine().getOut();
      out.println(new ObjectMapper().writeValueAsString(summary));
      out.flush();
      return unanswered == 0 ? 0 : 1;
    }
  }
}
