package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test models exported by {@code tools/export_torchvision.py} into {@code
 * target/torchvision-models/} (once; existing files are reused). Fails, never skips, when Debian's
 * PyTorch is missing: the tests need it as CI does.
 */
public final class TestModels {
  static final Path DIR = home().resolve("target/torchvision-models");

  private TestModels() {}

  /** The path of each named model, exporting those not there yet. */
  public static synchronized Path ensure(String name) {
    Path onnx = DIR.resolve(name + ".onnx");
    if (!Files.exists(onnx) || !hasExpectations(name)) {
      export(name);
    }
    return onnx;
  }

  /** The expectations the script computed from the torch module, for {@code name}. */
  static JsonNode expectations(String name) throws IOException {
    ensure(name);
    return new ObjectMapper().readTree(DIR.resolve("expectations.json").toFile()).get(name);
  }

  private static boolean hasExpectations(String name) {
    try {
      Path p = DIR.resolve("expectations.json");
      return Files.exists(p) && new ObjectMapper().readTree(p.toFile()).has(name);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The directory of {@code tools/reference_cam.py}'s output (ResNet-18 and PyTorch's reference
   * logits and CAMs, see the script), running it first when its index is missing.
   */
  static synchronized Path referenceCams() {
    Path dir = home().resolve("target/reference-cam");
    if (!Files.exists(dir.resolve("index.json"))) {
      python("reference CAMs", "tools/reference_cam.py", dir.toString());
    }
    return dir;
  }

  private static void export(String name) {
    python(name, "tools/export_torchvision.py", DIR.toString(), name);
  }

  private static void python(String what, String script, String... args) {
    Path python = Path.of("/usr/bin/python3");
    List<String> cmd =
        new ArrayList<>(List.of(python.toString(), home().resolve(script).toString()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        fail(
            "exporting %s failed (install python3-torch python3-torchvision python3-onnx"
                + " and run with /usr/bin/python3):%n%s",
            what, out);
      }
    } catch (IOException e) {
      fail(
          "cannot run %s to export test models: install python3-torch python3-torchvision"
              + " python3-onnx (%s)",
          python, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted while exporting " + what);
    }
  }

  private static Path home() {
    return Path.of(System.getProperty("gapstream.home", ".")).toAbsolutePath();
  }
}
