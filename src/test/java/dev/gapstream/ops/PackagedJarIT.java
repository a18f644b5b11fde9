package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar {@code package} builds, run as the launcher and the image run it: {@code java -jar
 * gapstream.jar} from another directory, on nothing but the class path its manifest names in
 * {@code target/lib}. Every other test runs on surefire's class path, which holds the test
 * dependencies too, so a runtime dependency left at test scope, or a resource left out of the jar,
 * would pass there and fail a user here. Failsafe runs this after {@code package}.
 */
class PackagedJarIT {

  private record Run(int code, String out, String err) {}

  @BeforeAll
  static void onTheJar() {
    assertThat(System.getProperty("gapstream.jar"))
        .as("failsafe's gapstream.jar: run this after package, with -Dit.test=PackagedJarIT, not -Dtest")
        .isNotNull();
  }

  private static Run gapstream(Path dir, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.add("-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("tmp")));
    command.add("-Dgapstream.home=" + System.getProperty("gapstream.home"));
    command.add("-jar");
    command.add(System.getProperty("gapstream.jar"));
    command.addAll(List.of(args));
    Path out = dir.resolve("stdout");
    Path err = dir.resolve("stderr");
    Process p =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    p.getOutputStream().close();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("gapstream " + String.join(" ", args) + " did not end in 5 minutes:\n" + Files.readString(err));
    }
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  /**
   * A run sweeps the empty directory an earlier one's ONNX Runtime left in java.io.tmpdir, and
   * leaves one at most of its own: each command used to leave one for good.
   */
  @Test
  void aRunSweepsTheDirectoriesEarlierRunsOfOnnxRuntimeLeft(@TempDir Path dir) throws Exception {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path stale = Files.createDirectory(tmp.resolve("onnxruntime-java1234567890"));
    Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
    Path model = Path.of(System.getProperty("gapstream.home"), "models/gapnet-shapes/model.onnx");

    Run r = gapstream(dir, "inspect", model.toString());

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(stale).doesNotExist();
    try (var left = Files.newDirectoryStream(tmp, "onnxruntime-java*")) {
      assertThat(left).as("this run's own, at most").hasSizeLessThanOrEqualTo(1);
    }
  }

  @Test
  void versionIsTheProjectsFromTheManifest(@TempDir Path dir) throws Exception {
    Run r = gapstream(dir, "--version");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("gapstream " + System.getProperty("gapstream.version"));
  }

  /**
   * What a command prints last reaches the terminal before the JVM exits: {@code config --keys}
   * print()ed its table unflushed, and the process printed nothing (in-process tests read picocli's
   * writer, so only a process shows it).
   */
  @Test
  void configKeysPrintsItsTableFromAProcess(@TempDir Path dir) throws Exception {
    Run r = gapstream(dir, "config", "--keys");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("| key |").contains("| `batch.max.size` |");
    assertThat(r.out().lines().count()).isGreaterThan(30);
  }

  /**
   * README's launcher, reached through a symbolic link from another directory: it finds its
   * project, takes the jar {@code package} has just built as it is (no build: its sources are not
   * newer), and runs it.
   */
  @Test
  void theLauncherRunsTheJarFromAnotherDirectory(@TempDir Path dir) throws Exception {
    Path home = Path.of(System.getProperty("gapstream.home"));
    Path link = Files.createSymbolicLink(dir.resolve("gs"), home.resolve("gapstream"));
    Path out = dir.resolve("stdout");
    Path err = dir.resolve("stderr");
    Process p = new ProcessBuilder(link.toString(), "--version")
        .directory(dir.toFile())
        .redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .start();
    try {
      assertThat(p.waitFor(2, TimeUnit.MINUTES)).as(Files.readString(err)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).as(Files.readString(err)).isZero();
    assertThat(Files.readString(err)).doesNotContain("building");
    assertThat(Files.readString(out).strip()).isEqualTo("gapstream " + System.getProperty("gapstream.version"));
  }

  /**
   * README's main job from the jar alone: the embedded KRaft broker, the shipped model in ONNX
   * Runtime (its native library unpacked from the jar in lib/), the pipeline, one prediction per
   * frame.
   */
  @Test
  void theDemoAnswersEveryFrameFromTheJarAlone(@TempDir Path dir) throws Exception {
    Run r = gapstream(dir, "demo", "--frames", "60", "--set", "http.port=0");
    assertThat(r.code()).as(r.err()).isZero();
    String[] lines = r.out().strip().split("\n");
    JsonNode summary = new ObjectMapper().readTree(lines[lines.length - 1]);
    assertThat(summary.path("frames").asInt()).as(r.out()).isEqualTo(60);
    assertThat(summary.path("predictions").asInt()).as(r.out()).isEqualTo(60);
    assertThat(summary.path("deadLetters").asInt()).isZero();
    assertThat(summary.path("duplicates").asInt()).isZero();
    assertThat(summary.path("accuracy").asDouble()).as("the shipped model on its own kind of frames").isGreaterThan(0.9);
  }

  /** {@code explain} draws with Java2D and writes with ImageIO: headless, from the jar, the shipped model. */
  @Test
  void explainWritesAnOverlayWithTheShippedModel(@TempDir Path dir) throws Exception {
    Run synth = gapstream(dir, "synth", "--count", "1", "--out", dir.resolve("frames").toString());
    assertThat(synth.code()).as(synth.err()).isZero();
    Path frame;
    try (var files = Files.walk(dir.resolve("frames"))) {
      frame = files.filter(f -> f.toString().endsWith(".png") || f.toString().endsWith(".jpg")).findFirst().orElseThrow();
    }
    Path overlay = dir.resolve("overlay.png");
    Run r = gapstream(dir, "explain", frame.toString(), "--out", overlay.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.path("model").path("name").asText()).isEqualTo("gapnet-shapes");
    assertThat(json.path("cam").path("box").size()).isEqualTo(4);
    assertThat(Files.size(overlay)).isPositive();
  }
}
