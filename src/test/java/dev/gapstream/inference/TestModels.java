package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Test models exported by {@code tools/export_torchvision.py} into {@code
 * target/torchvision-models/} (once; existing files are reused while the script that made them is
 * unchanged). Fails, never skips, when Debian's PyTorch is missing: the tests need it as CI does.
 */
public final class TestModels {
  static final Path DIR = home().resolve("target/torchvision-models");

  private TestModels() {}

  /** The path of each named model, exporting those not there yet. */
  public static synchronized Path ensure(String name) {
    dropIfStale(DIR, "tools/export_torchvision.py");
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
    dropIfStale(dir, "tools/reference_cam.py");
    if (!Files.exists(dir.resolve("index.json"))) {
      python("reference CAMs", "tools/reference_cam.py", dir.toString());
    }
    return dir;
  }

  /**
   * Empties {@code dir} when {@code script} changed since it wrote there (its SHA-256 is kept in
   * the directory): models and expectations from an older script would test the old export.
   */
  private static void dropIfStale(Path dir, String script) {
    try {
      String hash =
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(home().resolve(script))));
      Path stamp = dir.resolve(".script-sha256");
      if (Files.exists(stamp) && Files.readString(stamp).equals(hash)) {
        return;
      }
      if (Files.exists(dir)) {
        try (Stream<Path> files = Files.walk(dir)) {
          for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(f);
          }
        }
      }
      Files.createDirectories(dir);
      Files.writeString(stamp, hash);
    } catch (IOException | NoSuchAlgorithmException e) {
      fail("cannot check " + dir + " against " + script + ": " + e);
    }
  }

  private static void export(String name) {
    python(name, "tools/export_torchvision.py", DIR.toString(), name);
  }

  private static void python(String what, String script, String... args) {
    Path python = Path.of("/usr/bin/python3");
    List<String> cmd =
        new ArrayList<>(List.of(python.toString(), home().resolve(script).toString()));
    cmd.addAll(List.of(args));
    Path log = null;
    try {
      // Output to a file: reading a pipe to its end would wait on a hung export past the timeout.
      log = Files.createTempFile("test-models", ".log");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean ended = p.waitFor(10, TimeUnit.MINUTES);
      if (!ended) {
        p.destroyForcibly();
      }
      if (!ended || p.exitValue() != 0) {
        fail(
            "exporting %s %s (install python3-torch python3-torchvision python3-onnx"
                + " and run with /usr/bin/python3):%n%s",
            what, ended ? "failed" : "timed out after 10 minutes",
            new String(Files.readAllBytes(log), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      fail(
          "cannot run %s to export test models: install python3-torch python3-torchvision"
              + " python3-onnx (%s)",
          python, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted while exporting " + what);
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

  private static Path home() {
    return Path.of(System.getProperty("gapstream.home", ".")).toAbsolutePath();
  }
}
