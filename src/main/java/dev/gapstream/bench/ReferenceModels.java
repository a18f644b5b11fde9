package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Reference models for benchmarks, exported on first use by {@code tools/export_torchvision.py}
 * (torchvision architectures with random weights: nothing is downloaded, and nothing is committed)
 * into {@code target/bench-models/} under {@code gapstream.home}. Random weights do not change what
 * a benchmark measures: the cost of a network is its architecture.
 */
public final class ReferenceModels {

  /** Names {@code --model} accepts instead of a path. */
  public static final Set<String> NAMES = Set.of("resnet18", "mobilenet_v2", "squeezenet1_1");

  private static final String PYTHON = "/usr/bin/python3";
  /** How long one export may take; ResNet-18's takes seconds. */
  private static final Duration EXPORT_LIMIT = Duration.ofMinutes(10);

  private ReferenceModels() {}

  /**
   * The ONNX file of reference model {@code name}, exporting it when it is not there yet (needs
   * Debian's python3-torch, python3-torchvision and python3-onnx).
   *
   * @throws GapstreamException when the export fails
   */
  public static Path ensure(String name) {
    Path home = Path.of(System.getProperty("gapstream.home", ".")).toAbsolutePath();
    Path dir = home.resolve("target/bench-models");
    Path onnx = dir.resolve(name + ".onnx");
    if (Files.exists(onnx)) {
      return onnx;
    }
    Path script = home.resolve("tools/export_torchvision.py");
    Path log = null;
    try {
      Files.createDirectories(dir);
      // Its output to a file: reading a pipe to its end waited on a hung export past the time limit.
      log = Files.createTempFile(dir, "export-" + name, ".log");
      Process p =
          new ProcessBuilder(PYTHON, script.toString(), dir.toString(), name)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      boolean ended = p.waitFor(EXPORT_LIMIT.toMinutes(), TimeUnit.MINUTES);
      if (!ended) {
        p.destroyForcibly();
      }
      if (!ended || p.exitValue() != 0 || !Files.exists(onnx)) {
        throw new GapstreamException("exporting " + name + " with " + script
            + (ended ? " failed" : " timed out after " + EXPORT_LIMIT.toMinutes() + " minutes") + ":\n"
            + new String(Files.readAllBytes(log), StandardCharsets.UTF_8));
      }
      return onnx;
    } catch (IOException e) {
      throw new GapstreamException(
          "cannot run " + PYTHON + " " + script + " (install python3-torch python3-torchvision"
              + " python3-onnx): " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GapstreamException("interrupted while exporting " + name, e);
    } finally {
      deleteQuietly(log);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      if (file != null) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // a log left in target/: harmless
    }
  }
}
