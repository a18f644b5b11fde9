package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.GapstreamException;
import dev.gapstream.Main;
import dev.gapstream.ingest.DecodeLimits;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.GreyPngs;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code explain} through the CLI on the tiny models and on bad input. */
class ExplainCommandTest {

  private record Run(int code, String out, String err) {}

  private static Run explain(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    List<String> all = new ArrayList<>(List.of("explain"));
    all.addAll(List.of(args));
    return new Run(cli.execute(all.toArray(String[]::new)), out.toString(), err.toString());
  }

  private static Path disk(Path dir, int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.DARK_GRAY);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.ORANGE);
    g.fillOval(w / 2, h / 4, w / 3, h / 2);
    g.dispose();
    Path png = dir.resolve("frame.png");
    ImageIO.write(img, "png", png.toFile());
    return png;
  }

  @Test
  void fixedSizeModelWritesAnOverlayOfTheFrameSizeAndPrintsJson(@TempDir Path dir)
      throws Exception {
    Path png = disk(dir, 150, 90);
    Path overlay = dir.resolve("overlay.png");
    Run r =
        explain(
            png.toString(),
            "--model", TestModels.ensure("tiny-cam").toString(),
            "--out", overlay.toString(),
            "--threshold", "0.4");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    // no model.json beside tiny-cam: ImageNet defaults, 224×224 fixed, so the frame is resized
    assertThat(json.at("/input/width").asInt()).isEqualTo(224);
    assertThat(json.at("/frame/width").asInt()).isEqualTo(150);
    assertThat(json.get("top")).hasSize(4);
    assertThat(json.at("/top/0/index").asInt()).isEqualTo(json.at("/cam/index").asInt());
    assertThat(json.at("/cam/heatmap/width").asInt()).isEqualTo(112);
    assertThat(json.at("/cam/box")).hasSize(4);
    assertThat(json.at("/cam/peak/x").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.get("camSource").asText()).isEqualTo("class-map output `cam`");
    BufferedImage written = ImageIO.read(overlay.toFile());
    assertThat(written.getWidth()).isEqualTo(150);
    assertThat(written.getHeight()).isEqualTo(90);
  }

  @Test
  void fullyConvolutionalModelSeesTheFrameAtItsOwnSize(@TempDir Path dir) throws Exception {
    Path model = Files.copy(TestModels.ensure("tiny-linear"), dir.resolve("m.onnx"));
    Files.writeString(
        dir.resolve("model.json"),
        """
        {"name": "tiny-linear", "version": "3", "input": "input",
         "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
         "labels": ["circle", "square", "ring", "star"],
         "outputs": {"logits": "logits"}, "head": "gap-linear"}
        """);
    Run r = explain(disk(dir, 96, 64).toString(), "--model", model.toString(), "--top", "2");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.at("/input/width").asInt()).isEqualTo(96);
    assertThat(json.at("/cam/heatmap/width").asInt()).isEqualTo(48);
    assertThat(json.at("/cam/heatmap/cellCentre").asDouble()).as("no camCellCentre: the middle").isEqualTo(0.5);
    assertThat(json.at("/cam/heatmap/height").asInt()).isEqualTo(32);
    assertThat(json.get("top")).hasSize(2);
    assertThat(json.at("/cam/label").asText()).isIn("circle", "square", "ring", "star");
    assertThat(json.get("camSource").asText()).startsWith("computed from feature map");
  }

  @Test
  void aFrameLongerThanTheModelsMaxSideIsScaledAsThePipelineScalesIt(@TempDir Path dir) throws Exception {
    Path model = Files.copy(TestModels.ensure("tiny-linear"), dir.resolve("m.onnx"));
    Files.writeString(
        dir.resolve("model.json"),
        """
        {"name": "tiny-linear", "version": "3", "input": "input", "maxSide": 120,
         "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
         "labels": ["circle", "square", "ring", "star"],
         "outputs": {"logits": "logits"}, "head": "gap-linear"}
        """);
    Path frame = disk(dir, 480, 270);
    Path overlay = dir.resolve("overlay.png");
    Run r = explain(frame.toString(), "--model", model.toString(), "--out", overlay.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.at("/frame/width").asInt()).isEqualTo(480);
    assertThat(json.at("/input/width").asInt()).isEqualTo(120);
    assertThat(json.at("/input/height").asInt()).isEqualTo(68);
    assertThat(json.at("/cam/heatmap/width").asInt()).isEqualTo(60);
    assertThat(ImageIO.read(overlay.toFile()).getWidth()).as("drawn over the original").isEqualTo(480);

    Run own = explain(frame.toString(), "--model", model.toString(), "--max-side", "0");
    assertThat(own.code()).as(own.err()).isZero();
    assertThat(new ObjectMapper().readTree(own.out()).at("/input/width").asInt()).isEqualTo(480);
    Run set = explain(frame.toString(), "--model", model.toString(), "--max-side", "200");
    assertThat(new ObjectMapper().readTree(set.out()).at("/input/width").asInt()).isEqualTo(200);
  }

  @Test
  void theOverlayIsWrittenInTheFormatItsNameSays(@TempDir Path dir) throws Exception {
    Path frame = disk(dir, 120, 80);
    String model = TestModels.ensure("tiny-cam").toString();
    Path jpeg = dir.resolve("overlay.JPG");
    Run r = explain(frame.toString(), "--model", model, "--out", jpeg.toString());
    assertThat(r.code()).as(r.err()).isZero();
    byte[] bytes = Files.readAllBytes(jpeg);
    assertThat(bytes[0] & 0xff).as("a JPEG's SOI marker").isEqualTo(0xff);
    assertThat(bytes[1] & 0xff).isEqualTo(0xd8);

    Path gif = dir.resolve("overlay.gif");
    Run refused = explain(frame.toString(), "--model", model, "--out", gif.toString());
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("--out " + gif + ": name a .png, .jpg, .jpeg or .bmp file");
    assertThat(refused.out()).isEmpty();
    assertThat(gif).doesNotExist();
  }

  /**
   * An overlay goes where it can be written, or nothing runs: a missing directory is named at
   * once, before the model is loaded, not as ImageIO's "can't create an ImageOutputStream" after.
   */
  @Test
  void anOverlayIntoAMissingDirectoryIsRefusedFirst(@TempDir Path dir) throws Exception {
    Path frame = disk(dir, 120, 80);
    Path nowhere = dir.resolve("no-such-dir").resolve("overlay.png");
    Run r = explain(frame.toString(), "--model", dir.resolve("no-model.onnx").toString(), "--out", nowhere.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--out " + nowhere + ": " + nowhere.getParent() + " is not a writable directory");
    assertThat(r.out()).isEmpty();
  }

  /** The overlay never replaces the image it is drawn from, however the two paths are spelled. */
  @Test
  void anOverlayOverTheInputImageIsRefused(@TempDir Path dir) throws Exception {
    Path frame = disk(dir, 120, 80);
    byte[] original = Files.readAllBytes(frame);
    Path sameFile = dir.resolve("sub").resolve("..").resolve("frame.png");
    Files.createDirectory(dir.resolve("sub"));
    Run r = explain(frame.toString(), "--model", dir.resolve("no-model.onnx").toString(), "--out", sameFile.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--out " + sameFile + ": is the input image; name another file");
    assertThat(r.out()).isEmpty();
    assertThat(Files.readAllBytes(frame)).isEqualTo(original);
  }

  /**
   * An overlay is written beside its name and moved into place: an existing file is replaced
   * whole, no partial file is left in the directory, and the overlay has a new file's permissions.
   */
  @Test
  void anOverlayReplacesAnOldOneWholeAndLeavesNothingElse(@TempDir Path dir) throws Exception {
    Path frame = disk(dir, 120, 80);
    String model = TestModels.ensure("tiny-cam").toString();
    Path overlay = Files.writeString(dir.resolve("overlay.png"), "an old file, not an image\n");
    Run r = explain(frame.toString(), "--model", model, "--out", overlay.toString());
    assertThat(r.code()).as(r.err()).isZero();
    BufferedImage written = ImageIO.read(overlay.toFile());
    assertThat(written).isNotNull();
    assertThat(written.getWidth()).isEqualTo(120);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("frame.png", "overlay.png");
    }
    // Readable as any new file is, not private as a temporary file would be (0600).
    Path probe = Files.createFile(dir.resolve("probe"));
    assertThat(Files.getPosixFilePermissions(overlay)).isEqualTo(Files.getPosixFilePermissions(probe));
  }

  /**
   * A grey PNG is scored and drawn as the pipeline decodes it, its grey values as they are: its
   * overlay and scores are those of the same values stored as RGB (Java2D's own conversion would
   * draw the grey image brighter, 128 as 186).
   */
  @Test
  void aGreyImageIsDrawnAsThePipelineSeesIt(@TempDir Path dir) throws Exception {
    int w = 96;
    int h = 64;
    BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int v = (x - 48) * (x - 48) + (y - 32) * (y - 32) < 300 ? 200 : 60 + x;
        grey.getRaster().setSample(x, y, 0, v);
        rgb.setRGB(x, y, v << 16 | v << 8 | v);
      }
    }
    Path greyPng = dir.resolve("grey.png");
    Path rgbPng = dir.resolve("rgb.png");
    ImageIO.write(grey, "png", greyPng.toFile());
    ImageIO.write(rgb, "png", rgbPng.toFile());
    String model = TestModels.ensure("tiny-cam").toString();

    Run fromGrey = explain(greyPng.toString(), "--model", model, "--out", dir.resolve("grey-overlay.png").toString());
    Run fromRgb = explain(rgbPng.toString(), "--model", model, "--out", dir.resolve("rgb-overlay.png").toString());

    assertThat(fromGrey.code()).as(fromGrey.err()).isZero();
    assertThat(fromRgb.code()).as(fromRgb.err()).isZero();
    ObjectMapper json = new ObjectMapper();
    assertThat(json.readTree(fromGrey.out()).get("top")).isEqualTo(json.readTree(fromRgb.out()).get("top"));
    BufferedImage greyOverlay = ImageIO.read(dir.resolve("grey-overlay.png").toFile());
    BufferedImage rgbOverlay = ImageIO.read(dir.resolve("rgb-overlay.png").toFile());
    assertThat(greyOverlay.getRGB(0, 0, w, h, null, 0, w)).isEqualTo(rgbOverlay.getRGB(0, 0, w, h, null, 0, w));
  }

  /**
   * A grey PNG is the frame the pipeline decodes, its transparent grey (tRNS) over black: at 1, 2
   * and 4 bits too, where ImageIO's own image keeps that grey.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4, 8})
  void aGreyPngWithATransparentGreyIsTheFrameThePipelineDecodes(int depth, @TempDir Path dir) throws Exception {
    byte[] png = GreyPngs.png(40, 40, depth, true, GreyPngs.transparent(1), new byte[0]);
    Path file = Files.write(dir.resolve("grey.png"), png);
    DecodedFrame decoded = new FrameDecoder(new DecodeLimits(1 << 20, 1 << 20, 1, 1, 0, 0)).decode(png, null, null, null);

    BufferedImage frame = ExplainCommand.readFrame(file);

    int[] pipeline = new int[decoded.rgb().length];
    for (int i = 0; i < pipeline.length; i++) {
      pipeline[i] = decoded.rgb()[i] & 0xff;
    }
    assertThat(frame.getRaster().getPixels(0, 0, 40, 40, (int[]) null)).isEqualTo(pipeline);
    assertThat(frame.getRaster().getPixel(1, 0, (int[]) null)).as("stored 1, transparent").containsExactly(0, 0, 0);
  }

  @Test
  void nonImageIsAClearErrorWithNonZeroExit(@TempDir Path dir) throws Exception {
    Path text = Files.writeString(dir.resolve("cat.png"), "not pixels\n");
    String model = TestModels.ensure("tiny-cam").toString();
    Run r = explain(text.toString(), "--model", model);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("cat.png: not an image");

    Run missing = explain(dir.resolve("nope.jpg").toString(), "--model", model);
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("nope.jpg: no such image file");

    Run directory = explain(dir.toString(), "--model", model);
    assertThat(directory.code()).isEqualTo(2);
    assertThat(directory.err()).contains(dir + ": a directory, not an image file");
  }

  /** Each bad option is named by itself, with what it got. */
  @Test
  void eachBadOptionIsNamed(@TempDir Path dir) throws Exception {
    Path frame = disk(dir, 64, 48);
    assertThat(explain(frame.toString(), "--top", "0").err()).contains("--top: at least 1, got 0");
    assertThat(explain(frame.toString(), "--threshold", "1.5").err()).contains("--threshold: in [0, 1], got 1.5");
    assertThat(explain(frame.toString(), "--max-side", "-2").err()).contains("--max-side: -1 (the model's)");
  }

  /** From another directory without gapstream.home, the error says where the model was looked for. */
  @Test
  void theShippedModelIsLookedForInTheWorkingDirectoryThenUnderHome(@TempDir Path elsewhere) {
    Path home = Path.of(System.getProperty("gapstream.home", "."));
    assertThat(ExplainCommand.defaultModel(elsewhere, home.toString()))
        .isEqualTo(home.resolve(ExplainCommand.DEFAULT_MODEL));
    assertThat(ExplainCommand.defaultModel(home, null)).isEqualTo(home.resolve(ExplainCommand.DEFAULT_MODEL));
    assertThatThrownBy(() -> ExplainCommand.defaultModel(elsewhere, null))
        .isInstanceOf(GapstreamException.class)
        .hasMessage("the shipped model models/gapnet-shapes/model.onnx is not in the working directory (" + elsewhere
            + ") and -Dgapstream.home is not set (the ./gapstream launcher sets it): give --model");
    assertThatThrownBy(() -> ExplainCommand.defaultModel(elsewhere, elsewhere.toString()))
        .hasMessageEndingWith(" nor under -Dgapstream.home (" + elsewhere + "): give --model");
  }
}
