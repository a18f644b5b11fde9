package dev.gapstream.inference;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gapstream.GapstreamException;
import dev.gapstream.ingest.RgbPixels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gapstream explain IMAGE [--model M.onnx] [--out overlay.png] [--threshold 0.5]}: classifies
 * one image, prints the top classes and the top class's CAM localisation as JSON (coordinates are
 * fractions of the image's width and height), and optionally writes the image with the heatmap,
 * box, peak and label drawn over it ({@link CamOverlay}). Errors (no such file, not an image, bad
 * model) surface as {@link GapstreamException}: one line and exit code 2.
 */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    description = "Classify one image and show where the model looked (class activation map).")
public final class ExplainCommand implements Callable<Integer> {
  /** The shipped model, relative to the working directory or to {@code gapstream.home}. */
  static final String DEFAULT_MODEL = "models/gapnet-shapes/model.onnx";

  @Parameters(paramLabel = "IMAGE", description = "A PNG, JPEG, BMP or GIF image.")
  Path image;

  @Option(
      names = "--model",
      paramLabel = "M.onnx",
      description = "The model (default: " + DEFAULT_MODEL + ", or under -Dgapstream.home).")
  Path model;

  @Option(
      names = "--out",
      paramLabel = "overlay.png",
      description = "Write the image with the heatmap, box, peak and label drawn over it.")
  Path out;

  @Option(
      names = "--threshold",
      defaultValue = "0.5",
      description = "Box threshold, a fraction of the peak above the map's minimum (default 0.5).")
  float threshold;

  @Option(names = "--top", defaultValue = "5", description = "Classes to list (default 5).")
  int top;

  @Option(
      names = "--max-side",
      defaultValue = "-1",
      paramLabel = "PX",
      description =
          "Scale an image longer than this down to it first, as the pipeline does"
              + " (ingest.resize.max.side; default: the model's maxSide; 0: the image's own size).")
  int maxSide;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new GapstreamException("--threshold: in [0, 1], got " + threshold);
    }
    if (top < 1) {
      throw new GapstreamException("--top: at least 1, got " + top);
    }
    if (maxSide < -1) {
      throw new GapstreamException("--max-side: -1 (the model's), 0 (the image's own) or a size, got " + maxSide);
    }
    String overlayFormat = out == null ? null : overlayFormat(out, image);
    // The frame as the pipeline sees it (8-bit RGB, grey values as they are): scored and drawn on.
    BufferedImage frame = readFrame(image);
    Path modelFile = ModelSpec.modelFile(model != null ? model : defaultModel());
    int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    try (Explainer explainer = Explainer.open(modelFile, EngineOptions.cpu(threads), maxSide)) {
      Explainer.Explanation e = explainer.explain(frame, top, threshold);
      if (out != null) {
        writeOverlay(frame, e, explainer.engine().spec(), overlayFormat);
      }
      PrintWriter w = spec.commandLine().getOut();
      w.println(
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(json(frame, modelFile, explainer.engine(), e)));
      w.flush();
    }
    return 0;
  }

  /** The shipped model in the working directory, else under {@code gapstream.home}. */
  static Path defaultModel() {
    return defaultModel(Path.of(""), System.getProperty("gapstream.home"));
  }

  /**
   * The shipped model in {@code workingDir}, else under {@code home}.
   *
   * @throws GapstreamException where it is in neither, saying where it looked: from another
   *     directory, {@code java -jar} said only "models/gapnet-shapes/model.onnx: no such model file"
   */
  static Path defaultModel(Path workingDir, String home) {
    Path local = workingDir.resolve(DEFAULT_MODEL);
    if (Files.exists(local)) {
      return local;
    }
    if (home != null && Files.exists(Path.of(home).resolve(DEFAULT_MODEL))) {
      return Path.of(home).resolve(DEFAULT_MODEL);
    }
    throw new GapstreamException("the shipped model " + DEFAULT_MODEL + " is not in the working directory ("
        + workingDir.toAbsolutePath().normalize() + ")"
        + (home == null ? " and -Dgapstream.home is not set (the ./gapstream launcher sets it)" : " nor under -Dgapstream.home (" + home + ")")
        + ": give --model");
  }

  /**
   * Decodes {@code file} with ImageIO into the frame the pipeline decodes from the same bytes: 8-bit
   * RGB, grey values as they are, transparent pixels over black ({@link RgbPixels#asFrame(BufferedImage,
   * byte[])}: a grey PNG's of 1, 2 or 4 bits too, which ImageIO's image keeps grey).
   *
   * @throws GapstreamException naming the file when it is missing or not a decodable image
   */
  static BufferedImage readFrame(Path file) {
    if (Files.isDirectory(file)) {
      throw new GapstreamException(file + ": a directory, not an image file");
    }
    if (!Files.isRegularFile(file)) {
      throw new GapstreamException(file + ": no such image file");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new GapstreamException(file + ": cannot read image: " + e, e);
    }
    BufferedImage img;
    try {
      // Cached in memory (ImageIO's default for a stream is a temporary file), and closed by read.
      img = ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes)));
    } catch (IOException | RuntimeException e) { // ImageIO's readers throw unchecked on some bad data
      throw new GapstreamException(file + ": cannot decode image: " + e, e);
    }
    if (img == null) {
      throw new GapstreamException(
          file + ": not an image ImageIO can decode (PNG, JPEG, BMP, GIF)");
    }
    return RgbPixels.asFrame(img, bytes);
  }

  /**
   * The ImageIO format an overlay named {@code file} is written in, from its extension; checked
   * before the model is loaded, with the directory it goes in and that it is not the input image.
   *
   * @throws GapstreamException for any other extension, a directory that is missing or not
   *     writable, or the input image itself (drawing over it would lose the original)
   */
  static String overlayFormat(Path file, Path image) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    String ext = name.substring(name.lastIndexOf('.') + 1);
    String format = switch (ext) {
      case "png", "bmp" -> ext;
      case "jpg", "jpeg" -> "jpeg";
      default -> throw new GapstreamException(
          "--out " + file + ": name a .png, .jpg, .jpeg or .bmp file");
    };
    Path parent = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(parent) || !Files.isWritable(parent)) {
      throw new GapstreamException("--out " + file + ": " + parent + " is not a writable directory");
    }
    if (sameFile(file, image)) {
      throw new GapstreamException("--out " + file + ": is the input image; name another file");
    }
    return format;
  }

  private static boolean sameFile(Path a, Path b) {
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    } catch (IOException e) {
      return false; // neither can be read as a file: the write or the read names the problem
    }
  }

  /**
   * Draws the overlay and writes it to a hidden file beside {@code out}, then moves it into
   * place: a reader of {@code out} sees the old file or the whole new one, and a failed write
   * leaves neither a truncated image nor the partial file behind.
   */
  private void writeOverlay(
      BufferedImage frame, Explainer.Explanation e, ModelSpec model, String format)
      throws IOException {
    Scores.Scored best = e.top().get(0);
    String caption =
        String.format(Locale.ROOT, "%s %.2f", model.label(best.index()), best.score());
    BufferedImage overlay = CamOverlay.render(frame, e.cam(), caption);
    Path target = out.toAbsolutePath();
    // Created as any new file is (the umask's permissions: a temporary file's would be 0600).
    Path partial = target.resolveSibling(
        "." + target.getFileName() + "." + ProcessHandle.current().pid() + ".partial");
    try {
      try (OutputStream o = Files.newOutputStream(partial, StandardOpenOption.CREATE_NEW)) {
        if (!ImageIO.write(overlay, format, o)) {
          throw new GapstreamException("--out " + out + ": no image writer for this format");
        }
      }
      // Same directory, so the rename is atomic.
      Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      partial = null;
    } catch (IOException ex) {
      throw new GapstreamException("--out " + out + ": cannot write the overlay: " + ex.getMessage(), ex);
    } finally {
      if (partial != null) {
        Files.deleteIfExists(partial);
      }
    }
  }

  private ObjectNode json(
      BufferedImage frame, Path modelFile, InferenceEngine engine, Explainer.Explanation e) {
    ObjectMapper m = new ObjectMapper();
    ObjectNode root = m.createObjectNode();
    root.put("image", image.toString());
    ModelSpec s = engine.spec();
    root.putObject("model")
        .put("name", s.name())
        .put("version", s.version())
        .put("path", modelFile.toString());
    root.putObject("frame").put("width", frame.getWidth()).put("height", frame.getHeight());
    root.putObject("input").put("width", e.inputWidth()).put("height", e.inputHeight());
    ArrayNode topList = root.putArray("top");
    for (Scores.Scored t : e.top()) {
      topList
          .addObject()
          .put("label", s.label(t.index()))
          .put("index", t.index())
          .put("score", t.score());
    }
    root.put("camSource", engine.camPlan().describe());
    if (e.cam() == null) {
      root.putNull("cam");
    } else {
      root.set("cam", cam(m, e, s));
    }
    if (out != null) {
      root.put("overlay", out.toString());
    }
    return root;
  }

  private static ObjectNode cam(ObjectMapper m, Explainer.Explanation e, ModelSpec s) {
    ClassActivationMap c = e.cam();
    ObjectNode cam = m.createObjectNode();
    cam.put("label", s.label(c.classIndex())).put("index", c.classIndex());
    cam.put("score", e.top().get(0).score());
    cam.putObject("peak").put("x", c.peakX()).put("y", c.peakY());
    ArrayNode box = cam.putArray("box");
    for (float v : c.box()) {
      box.add(v);
    }
    cam.putObject("heatmap")
        .put("width", c.width())
        .put("height", c.height())
        .put("cellWidth", Math.round((double) c.spanX() / c.width() * 1e6) / 1e6)
        .put("cellHeight", Math.round((double) c.spanY() / c.height() * 1e6) / 1e6)
        .put("cellCentre", c.cellCentre());
    return cam;
  }
}
