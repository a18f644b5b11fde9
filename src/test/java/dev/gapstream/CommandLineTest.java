package dev.gapstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What every command shares: the converters and error handling {@link Main#commandLine()} sets. */
class CommandLineTest {

  private record Run(int code, String err) {}

  private static Run gapstream(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    int code = cli.execute(args);
    return new Run(code, err.toString());
  }

  /** A configuration error is phrased from its key: no Java exception after it. */
  @Test
  void aBadValueIsNamedWithoutTheJavaExceptionBehindIt() {
    Run r = gapstream("config", "--set", "ingest.max.frame.bytes=8XB");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("ingest.max.frame.bytes: \"8XB\" is not a byte size")
        .doesNotContain("NumberFormatException");
  }

  /** A duration that does not parse asks for ISO-8601, not java.time's parse error. */
  @Test
  void aDurationThatDoesNotParseAsksForIso8601() {
    Run r = gapstream("demo", "--timeout", "5s");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("--timeout")
        .contains("'5s' is not an ISO-8601 duration, e.g. PT30S, PT5M or PT2H")
        .doesNotContain("java.time");
  }
}
