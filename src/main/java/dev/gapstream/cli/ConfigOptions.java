package dev.gapstream.cli;

import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options every command that starts a pipeline shares: a config file and overrides. */
final class ConfigOptions {

  @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file.")
  Path file;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override one configuration key (highest precedence), e.g. --set batch.max.size=32.")
  Map<String, String> overrides = new LinkedHashMap<>();

  /** Defaults < file < environment < --set, validated. */
  GapstreamConfig load(Map<String, String> commandDefaults) {
    ConfigLoader loader = ConfigLoader.builder();
    Map<String, String> merged = new LinkedHashMap<>(commandDefaults);
    merged.putAll(overrides);
    if (file != null) {
      loader.file(file);
    }
    return loader.env(System.getenv()).set(merged).load();
  }
}
