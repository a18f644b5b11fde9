package dev.gapstream.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.Main;
import dev.gapstream.cli.CliRun;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthCommandTest {

  @TempDir Path dir;

  @Test
  void writesFramesAndLabelsCsv() throws IOException {
    int code =
        Main.commandLine()
            .execute(
                "synth",
                "--out",
                dir.toString(),
                "--count",
                "12",
                "--seed",
                "5",
                "--sizes",
                "64x64,96x128",
                "--format",
                "mixed");
    assertThat(code).isZero();

    List<String> lines = Files.readAllLines(dir.resolve("labels.csv"));
    assertThat(lines.get(0)).isEqualTo("file,label,x0,y0,x1,y1,width,height");
    assertThat(lines).hasSize(13);
    boolean sawPng = false;
    boolean sawJpeg = false;
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      assertThat(f).hasSize(8);
      assertThat(SyntheticFrames.LABELS).contains(f[1]);
      BufferedImage img = ImageIO.read(dir.resolve(f[0]).toFile());
      assertThat(img).as(f[0]).isNotNull();
      assertThat(img.getWidth()).isEqualTo(Integer.parseInt(f[6]));
      assertThat(img.getHeight()).isEqualTo(Integer.parseInt(f[7]));
      assertThat(f[6] + "x" + f[7]).isIn("64x64", "96x128");
      Box box =
          new Box(
              Integer.parseInt(f[2]),
              Integer.parseInt(f[3]),
              Integer.parseInt(f[4]),
              Integer.parseInt(f[5]));
      assertThat(box.x1()).isLessThanOrEqualTo(img.getWidth());
      assertThat(box.y1()).isLessThanOrEqualTo(img.getHeight());
      sawPng |= f[0].endsWith(".png");
      sawJpeg |= f[0].endsWith(".jpg");
    }
    assertThat(sawPng).isTrue();
    assertThat(sawJpeg).isTrue();
  }

  @Test
  void sameSeedWritesSameFiles() throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    Main.commandLine().execute("synth", "--out", a.toString(), "--count", "3", "--seed", "9");
    Main.commandLine().execute("synth", "--out", b.toString(), "--count", "3", "--seed", "9");
    assertThat(Files.readString(a.resolve("labels.csv")))
        .isEqualTo(Files.readString(b.resolve("labels.csv")));
    assertThat(Files.readAllBytes(a.resolve("frame-000002.png")))
        .isEqualTo(Files.readAllBytes(b.resolve("frame-000002.png")));
  }

  /** Usage errors naming their option, exit 2; before, a bare "error: expected WIDTHxHEIGHT", exit 1. */
  @Test
  void badValuesAreUsageErrorsNamingTheirOption() {
    CliRun size = CliRun.of("synth", "--out", dir.toString(), "--count", "1", "--sizes", "64x64,64by64");
    assertThat(size.code()).isEqualTo(2);
    assertThat(size.err()).contains("Invalid value for option '--sizes' (WxH): expected WIDTHxHEIGHT, e.g. 128x96: 64by64");

    CliRun count = CliRun.of("synth", "--out", dir.toString(), "--count", "-1");
    assertThat(count.code()).isEqualTo(2);
    assertThat(count.err()).contains("--count: 0 or more, got -1");

    // Too small to draw: it failed as "error: frames must be ...", exit 1, after making --out.
    Path tiny = dir.resolve("tiny");
    CliRun small = CliRun.of("synth", "--out", tiny.toString(), "--count", "1", "--sizes", "8x8");
    assertThat(small.code()).isEqualTo(2);
    assertThat(small.err()).contains("--sizes: frames must be at least 16 px per side: 8x8");
    CliRun huge = CliRun.of("synth", "--out", tiny.toString(), "--count", "1", "--sizes", "50000x50000");
    assertThat(huge.code()).isEqualTo(2);
    assertThat(huge.err()).contains("--sizes: frames must be at most 67108864 px (8192x8192) to draw: 50000x50000");
    assertThat(tiny).doesNotExist();
    assertThat(dir).isEmptyDirectory();
  }

  /** --out naming a file: the option named, where it used to say "error: /path", exit 1. */
  @Test
  void anOutThatIsAFileIsAUsageError() throws IOException {
    Path file = Files.writeString(dir.resolve("notes.txt"), "not a directory");
    CliRun run = CliRun.of("synth", "--out", file.toString(), "--count", "1");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--out: " + file + " exists and is not a directory");
  }

  /** A directory that cannot be made is a usage error that says which and why, not the path alone. */
  @Test
  void anOutThatCannotBeMadeIsAUsageErrorSayingWhy() throws IOException {
    Path file = Files.writeString(dir.resolve("notes.txt"), "not a directory");
    Path under = file.resolve("frames");
    CliRun run = CliRun.of("synth", "--out", under.toString(), "--count", "1");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--out: cannot create " + under + ": ").doesNotContain("java.nio");
  }

  /**
   * labels.csv appears only once every frame is written: a run that fails half-way leaves none, not
   * even an earlier run's, whose frames it has partly overwritten.
   */
  @Test
  void labelsCsvAppearsOnlyOnceEveryFrameIsWritten() throws IOException {
    Main.commandLine().execute("synth", "--out", dir.toString(), "--count", "4", "--seed", "3");
    assertThat(Files.readAllLines(dir.resolve("labels.csv"))).hasSize(5);
    assertThat(dir.resolve("labels.csv.partial")).doesNotExist();

    Files.delete(dir.resolve("frame-000002.png"));
    Files.createDirectory(dir.resolve("frame-000002.png")); // the third frame cannot be written
    CliRun failed = CliRun.of("synth", "--out", dir.toString(), "--count", "4", "--seed", "4");
    assertThat(failed.code()).isNotZero();
    assertThat(dir.resolve("labels.csv")).doesNotExist();
  }

  /**
   * Stopped by a signal (Ctrl-C, SIGTERM), synth just stops: exit 143, nothing on stderr, no
   * labels.csv. Before, the JVM's own shutdown hook closed the temporary file ImageIO was encoding
   * the frame through, and synth died saying "Error: java.io.IOException: closed".
   */
  @Test
  void aSignalStopsItQuietly() throws Exception {
    Path out = dir.resolve("frames");
    Path err = dir.resolve("err");
    Process synth = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
            "dev.gapstream.Main", "synth", "--out", out.toString(), "--count", "1000000", "--sizes", "256x256")
        .redirectOutput(dir.resolve("out").toFile())
        .redirectError(err.toFile())
        .start();
    try {
      await().atMost(Duration.ofMinutes(1)).until(() -> frames(out) >= 20);
      synth.destroy(); // SIGTERM
      assertThat(synth.waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      synth.destroyForcibly();
    }
    assertThat(Files.readString(err)).isEmpty();
    assertThat(synth.exitValue()).isEqualTo(143); // 128 + SIGTERM
    assertThat(out.resolve("labels.csv")).doesNotExist();
  }

  private static long frames(Path out) throws IOException {
    if (!Files.isDirectory(out)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(out)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".png")).count();
    }
  }
}
