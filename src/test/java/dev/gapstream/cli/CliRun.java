package dev.gapstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** One {@code gapstream} command line, run in this JVM: its exit code and what it printed; or a JVM of its own. */
public record CliRun(int code, String out, String err) {

  public static CliRun of(String... args) {
    return on(Main.commandLine(), args);
  }

  /** {@code args} run on {@code cli}, {@link Main#commandLine()} as a test set it up. */
  public static CliRun on(CommandLine cli, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  /**
   * {@code gapstream args} in a JVM of its own, to be signalled: its stdout in {@code out}, stderr
   * in {@code err}.
   */
  public static Process start(Path out, Path err, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
  }

  /** Standard output as JSON, once the command has succeeded. */
  public JsonNode report() throws Exception {
    assertThat(code).as(err).isZero();
    return json();
  }

  /** Standard output as JSON, whatever the exit code. */
  public JsonNode json() throws Exception {
    return new ObjectMapper().readTree(out);
  }
}
