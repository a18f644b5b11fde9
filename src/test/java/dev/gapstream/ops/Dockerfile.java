package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code deploy/Dockerfile}'s runtime stage (the last {@code FROM}) gives a container: its
 * environment, working directory and entrypoint. No Docker engine here, so the instructions are
 * read, continuation lines joined; only the forms the file uses are understood.
 */
final class Dockerfile {

  private final List<String> runtime;

  private Dockerfile(List<String> runtime) {
    this.runtime = runtime;
  }

  static Dockerfile read() {
    try {
      return parse(Files.readString(ExternalTool.repoRoot().resolve("deploy/Dockerfile")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Dockerfile parse(String text) {
    List<String> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      String l = line.strip();
      if (current.length() == 0 && (l.isEmpty() || l.startsWith("#"))) {
        continue;
      }
      if (l.endsWith("\\")) {
        current.append(l, 0, l.length() - 1).append(' ');
      } else {
        instructions.add(current.append(l).toString().strip());
        current.setLength(0);
      }
    }
    int from = 0;
    for (int i = 0; i < instructions.size(); i++) {
      if (instructions.get(i).startsWith("FROM ")) {
        from = i;
      }
    }
    return new Dockerfile(instructions.subList(from, instructions.size()));
  }

  /** The runtime stage's {@code ENV} variables ({@code ENV K=V K2=V2} or {@code ENV K V}). */
  Map<String, String> env() {
    Map<String, String> env = new LinkedHashMap<>();
    for (String args : arguments("ENV")) {
      if (!args.contains("=") || args.indexOf(' ') < args.indexOf('=')) {
        String[] kv = args.split("\\s+", 2);
        env.put(kv[0], kv.length > 1 ? kv[1] : "");
        continue;
      }
      for (String pair : args.split("\\s+")) {
        int eq = pair.indexOf('=');
        env.put(pair.substring(0, eq), unquote(pair.substring(eq + 1)));
      }
    }
    return env;
  }

  /** The working directory a container starts in. */
  Optional<String> workdir() {
    List<String> dirs = arguments("WORKDIR");
    return dirs.isEmpty() ? Optional.empty() : Optional.of(dirs.get(dirs.size() - 1));
  }

  /** The exec-form {@code ENTRYPOINT}; the Deployment gives {@code args} only, so it stays. */
  List<String> entrypoint() {
    List<String> entrypoints = arguments("ENTRYPOINT");
    assertThat(entrypoints).as("one ENTRYPOINT in the runtime stage").hasSize(1);
    try {
      return JsonMapper.builder().build().readValue(entrypoints.get(0), new TypeReference<List<String>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("ENTRYPOINT is not in exec form: " + entrypoints.get(0), e);
    }
  }

  /**
   * The exec-form command of the runtime stage's {@code HEALTHCHECK [--options] CMD [...]}, and
   * its options.
   */
  Healthcheck healthcheck() {
    List<String> checks = arguments("HEALTHCHECK");
    assertThat(checks).as("one HEALTHCHECK in the runtime stage").hasSize(1);
    String check = checks.get(0);
    int cmd = check.indexOf(" CMD ");
    assertThat(cmd).as("HEALTHCHECK [--options] CMD [...]: %s", check).isPositive();
    List<String> options = List.of(check.substring(0, cmd).strip().split("\\s+"));
    try {
      return new Healthcheck(
          options,
          JsonMapper.builder().build().readValue(check.substring(cmd + 5).strip(), new TypeReference<List<String>>() {}));
    } catch (IOException e) {
      throw new UncheckedIOException("HEALTHCHECK's command is not in exec form: " + check, e);
    }
  }

  record Healthcheck(List<String> options, List<String> command) {}

  /** The entrypoint's JVM options: what comes between {@code java} and {@code -jar}. */
  List<String> jvmOptions() {
    List<String> command = entrypoint();
    assertThat(command.get(0)).isEqualTo("java");
    return command.subList(1, command.indexOf("-jar"));
  }

  private List<String> arguments(String instruction) {
    return runtime.stream()
        .filter(i -> i.startsWith(instruction + " "))
        .map(i -> i.substring(instruction.length()).strip())
        .toList();
  }

  private static String unquote(String value) {
    return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
        ? value.substring(1, value.length() - 1)
        : value;
  }
}
