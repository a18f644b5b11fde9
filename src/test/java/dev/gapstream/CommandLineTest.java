package dev.gapstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What every command shares: the converters {@link Main#commandLine()} registers. */
class CommandLineTest {

  /** A configuration error is phrased from its key: no Java exception after it. */
  @Test
  void aBadValueIsNamedWithoutTheJavaExceptionBehindIt() {
    CommandLine cli = Main.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));

    int code = cli.execute("config", "--set", "ingest.max.frame.bytes=8XB");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .contains("ingest.max.frame.bytes: \"8XB\" is not a byte size")
        .doesNotContain("NumberFormatException");
  }

  /** A duration that does not parse asks for ISO-8601, not java.time's parse error. */
  @Test
  void aDurationThatDoesNotParseAsksForIso8601() {
    CommandLine cli = Main.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));

    int code = cli.execute("demo", "--timeout", "5s");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .contains("--timeout")
        .contains("'5s' is not an ISO-8601 duration, e.g. PT30S, PT5M or PT2H")
        .doesNotContain("java.time");
  }
}
