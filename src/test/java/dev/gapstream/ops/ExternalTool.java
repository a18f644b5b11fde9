package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real command-line tools the ops files are written for (kubectl, promtool). A missing
 * tool fails the test with the package to install: these checks must not be skipped silently.
 */
final class ExternalTool {

  private static final long TIMEOUT_SECONDS = 120;

  /** Exit status and the merged stdout/stderr of one run. */
  record Result(int exitCode, String output) {
    boolean ok() {
      return exitCode == 0;
    }
  }

  private ExternalTool() {}

  /** The repository root: surefire passes it as gapstream.home; an IDE run uses the working dir. */
  static Path repoRoot() {
    return Path.of(System.getProperty("gapstream.home", "")).toAbsolutePath();
  }

  /** Fails the calling test unless {@code name} is an executable on the PATH. */
  static Path require(String name, String howToInstall) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return fail(name + " not found on PATH; " + howToInstall);
  }

  static Result run(Path workDir, String... command) {
    List<String> cmd = new ArrayList<>(List.of(command));
    Path log = null;
    try {
      // Output to a file, not a pipe: reading a pipe to its end would wait on a hung tool past the
      // timeout, and an unread full pipe would block it.
      log = Files.createTempFile("external-tool", ".log");
      Process p =
          new ProcessBuilder(cmd)
              .directory(workDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      p.getOutputStream().close();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return fail("timed out after " + TIMEOUT_SECONDS + " s: " + cmd + "\n" + read(log));
      }
      return new Result(p.exitValue(), read(log));
    } catch (IOException e) {
      return fail("could not run " + cmd + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted running " + cmd);
    } finally {
      if (log != null) {
        try {
          Files.deleteIfExists(log);
        } catch (IOException ignored) {
          // a temp file left behind
        }
      }
    }
  }

  /** Lenient: a tool's output need not be valid UTF-8. */
  private static String read(Path log) throws IOException {
    return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
  }

  static Path kubectl() {
    return require("kubectl", "install kubectl (it bundles kustomize) to render k8s/");
  }

  static Path promtool() {
    return require("promtool", "install it with `apt-get install prometheus` (see .ci/run)");
  }
}
