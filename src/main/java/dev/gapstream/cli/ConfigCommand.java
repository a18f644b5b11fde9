package dev.gapstream.cli;

import dev.gapstream.config.ConfigDef;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.pipeline.GapstreamService;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code config}: the effective configuration (secrets redacted), or the table of every key. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description = {
      "Print the effective configuration (defaults < --config file < GAPSTREAM_* environment <"
          + " --set), validated (the model file must exist), secrets redacted; or, with --keys, every"
          + " key as a Markdown table."
    })
public final class ConfigCommand implements Callable<Integer> {

  @Option(names = "--keys", description = "List every configuration key with its default and meaning.")
  boolean keys;

  @Mixin ConfigOptions config;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    if (keys) {
      spec.commandLine().getOut().print(keyTable());
    } else {
      GapstreamConfig effective = config.load(Map.of());
      // run would refuse to start without it, or with a file that is no ONNX model or whose
      // model.json does not fit it: read both as run does (the graph only, no session); and with
      // frame limits the model cannot take, or a provider this build lacks
      ModelSpec model = ModelSpec.load(effective.inference().existingModelFile());
      GapstreamService.decodeLimits(effective, model);
      InferenceEngine.checkProvider(GapstreamService.engineOptions(effective).provider());
      spec.commandLine().getOut().println(effective.redactedView());
    }
    return 0;
  }

  /**
   * Every key of {@link ConfigKeys#DEF} as a Markdown table, in definition order: the README's
   * table, word for word.
   */
  public static String keyTable() {
    StringBuilder out = new StringBuilder();
    out.append("| key | default | meaning |\n|---|---|---|\n");
    for (ConfigDef.Key key : ConfigKeys.DEF.keys().values()) {
      out.append("| `").append(key.name()).append("` | ")
          .append(defaultOf(key)).append(" | ")
          .append(key.doc()).append(" |\n");
    }
    out.append("| `kafka.consumer.*`, `kafka.producer.*` | | passed to the Kafka clients as they are |\n");
    return out.toString();
  }

  private static String defaultOf(ConfigDef.Key key) {
    // Machine-dependent: the table must read the same everywhere.
    if (key.doc().contains("available processors ÷ inference.concurrency")) {
      return "CPUs ÷ `inference.concurrency`";
    }
    if (key.doc().contains("available processors")) {
      return "CPUs";
    }
    if (key.name().equals(ConfigKeys.INFERENCE_CONCURRENCY)) {
      return "`" + key.defaultValue() + "`; with `inference.provider=cuda` CPUs ÷ 2, within 2–4";
    }
    if (key.type() == ConfigDef.Type.BYTES && key.defaultValue() instanceof Long bytes
        && bytes > 0 && bytes % (1 << 20) == 0) {
      return "`" + (bytes >> 20) + "MiB`";
    }
    String value = String.valueOf(key.defaultValue());
    return value.isEmpty() ? "(empty)" : "`" + value + "`";
  }
}
