package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    try {
      Files.createDirectories(dir);
      Process p =
          new ProcessBuilder(PYTHON, script.toString(), dir.toString(), name)
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0 || !Files.exists(onnx)) {
        throw new GapstreamException("exporting " + name + " with " + script + " failed:\n" + out);
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
    }
  }
}
