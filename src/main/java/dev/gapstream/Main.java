package dev.gapstream;

import dev.gapstream.cli.ConfigCommand;
import dev.gapstream.cli.DemoCommand;
import dev.gapstream.cli.LoadCommand;
import dev.gapstream.cli.ProduceCommand;
import dev.gapstream.cli.ReplayCommand;
import dev.gapstream.config.ConfigException;
import dev.gapstream.cli.RunCommand;
import dev.gapstream.inference.ExplainCommand;
import dev.gapstream.inference.InspectCommand;
import dev.gapstream.inference.OrtTempDirectories;
import dev.gapstream.synth.SynthCommand;
import dev.gapstream.synth.FrameSize;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The gapstream command line. Each subcommand lives beside the stage it drives; this class only
 * wires them together and turns an uncaught failure into a non-zero exit (an exception escaping
 * {@code main} would leave Vert.x and Kafka threads running and the process hanging).
 */
@Command(
    name = "gapstream",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Streaming inference for GAP-headed CNN classifiers: Kafka frames in, predictions out.",
    subcommands = {
      CommandLine.HelpCommand.class,
      RunCommand.class,
      DemoCommand.class,
      ProduceCommand.class,
      ReplayCommand.class,
      ConfigCommand.class,
      SynthCommand.class,
      InspectCommand.class,
      dev.gapstream.cli.BenchCommand.class,
      LoadCommand.class,
      ExplainCommand.class
    })
public final class Main {

  public static void main(String[] args) {
    // Every command draws off-screen only (explain's overlay, the live view, synthetic frames):
    // a DISPLAY that is set but unreachable must not be tried.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    // Streams ImageIO makes for a command (explain's overlay) cache in memory, not in temporary
    // files: a read-only root filesystem has none, and the JVM's own shutdown hook closes those
    // files under a writer stopped by a signal ("java.io.IOException: closed").
    ImageIO.setUseCache(false);
    // ONNX Runtime leaves an empty directory in java.io.tmpdir each run: those of earlier runs go.
    OrtTempDirectories.sweep(Path.of(System.getProperty("java.io.tmpdir")));
    int code;
    CommandLine cli = null;
    try {
      cli = commandLine();
      code = cli.execute(args);
    } catch (Throwable t) {
      // Not a command's failure (picocli handles those): an Error, e.g. a native library that did
      // not load, whose cause says why.
      Throwable root = rootCause(t);
      System.err.println("gapstream: " + t + (root == t ? "" : " (caused by " + root + ")"));
      code = 1;
    }
    // picocli's writers flush on println only; System.exit would drop what a command print()ed last
    // (config --keys printed nothing).
    if (cli != null) {
      cli.getOut().flush();
      cli.getErr().flush();
    }
    System.exit(code);
  }

  /** The configured picocli command line; tests drive it without exiting the JVM. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    // A size that does not parse is a usage error naming its option (exit 2), like any bad value.
    cli.registerConverter(FrameSize.class, text -> {
      try {
        return FrameSize.parse(text);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    });
    // Durations (--timeout, --duration) are ISO-8601; say so, not java.time's parse error.
    cli.registerConverter(Duration.class, text -> {
      try {
        return Duration.parse(text);
      } catch (DateTimeParseException e) {
        throw new CommandLine.TypeConversionException(
            "'" + text + "' is not an ISO-8601 duration, e.g. PT30S, PT5M or PT2H");
      }
    });
    cli.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          cmd.getErr().println(cmd.getColorScheme().errorText("error: " + describe(ex)));
          return ex instanceof GapstreamException ? 2 : 1;
        });
    return cli;
  }

  /**
   * The message, then the innermost cause's, so a wrapped failure still says why; not where the
   * message already says it (a configuration error is phrased from its key, and some messages
   * quote their cause).
   */
  static String describe(Throwable ex) {
    Throwable root = rootCause(ex);
    String message = String.valueOf(ex.getMessage());
    if (root instanceof FileSystemException f && !(ex instanceof ConfigException)) {
      // Its message is often the path alone: "error: /data/frames/a.png" said what, not why.
      String what = FileErrors.describe(f);
      if (root == ex || message.equals(f.getFile())) {
        return what;
      }
      return message.contains(FileErrors.why(f)) ? message : message + " (" + what + ")";
    }
    if (root == ex || ex instanceof ConfigException
        || (root.getMessage() != null && !root.getMessage().isBlank() && message.contains(root.getMessage()))) {
      return message;
    }
    return message + " (caused by " + root + ")";
  }

  private static Throwable rootCause(Throwable ex) {
    Throwable root = ex;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"gapstream " + (v == null ? "dev" : v)};
    }
  }
}
