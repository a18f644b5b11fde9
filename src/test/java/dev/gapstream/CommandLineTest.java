package dev.gapstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.config.ConfigException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

  /**
   * A failed file operation says why: a FileSystemException's message is often the path alone,
   * and "error: /data/frames" (produce on an unreadable directory) said what, not why.
   */
  @Test
  void aFailedFileOperationSaysWhy() {
    assertThat(Main.describe(new AccessDeniedException("/data/frames"))).isEqualTo("/data/frames: permission denied");
    assertThat(Main.describe(new GapstreamException("cannot read images", new NoSuchFileException("/data/a.png"))))
        .isEqualTo("cannot read images (/data/a.png: no such file or directory)");
    assertThat(Main.describe(new FileSystemException("/data/b.png", null, "Input/output error")))
        .isEqualTo("/data/b.png: Input/output error");
    assertThat(FileErrors.describe(new IOException("Stream closed"))).isEqualTo("Stream closed");
    // Where the message says why already, once.
    assertThat(Main.describe(new ConfigException(
            "cannot read config file /c.yaml: permission denied", new AccessDeniedException("/c.yaml"))))
        .isEqualTo("cannot read config file /c.yaml: permission denied");
    assertThat(Main.describe(new GapstreamException(
            "cannot read images from /d: /d/a.png: permission denied", new AccessDeniedException("/d/a.png"))))
        .isEqualTo("cannot read images from /d: /d/a.png: permission denied");
  }

  /** A directory given as the config file: the reason once, not the path twice. */
  @Test
  void aDirectoryAsTheConfigFileSaysSo(@TempDir Path dir) {
    Run r = gapstream("config", "--config", dir.toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("cannot read config file " + dir + ": Is a directory").doesNotContain(dir + ": " + dir);
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
