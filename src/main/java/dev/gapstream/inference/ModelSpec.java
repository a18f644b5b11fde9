package dev.gapstream.inference;

import ai.onnx.proto.OnnxMl.NodeProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * Everything the pipeline needs to know about a model besides its weights: tensor names, the
 * preprocessing contract (value = (pixel / pixelScale − mean[c]) / std[c], channels in {@link
 * #channelOrder}, NCHW), the accepted input sizes, the labels and the head kind. Immutable: the
 * arrays are copied in and out. Sizes are pixels; 0 for {@code fixedWidth}/{@code fixedHeight}
 * means any size. {@code maxSide} is the longest side an any-size model expects a frame at (the
 * scale of its training frames: an object drawn larger than any it learnt is not recognised), 0
 * for no such bound; the pipeline scales longer frames down to it unless {@code
 * ingest.resize.max.side} says otherwise. {@code camOutput} is null when the graph has no
 * class-map output; every other field is non-null.
 */
public record ModelSpec(
    String name,
    String version,
    String inputName,
    String layout,
    ChannelOrder channelOrder,
    float pixelScale,
    float[] mean,
    float[] std,
    int minWidth,
    int minHeight,
    int fixedWidth,
    int fixedHeight,
    int maxSide,
    List<String> labels,
    String logitsOutput,
    String camOutput,
    HeadKind head,
    float camCellCentre) {

  /**
   * The default {@link #camCellCentre()}: the middle of the cell. That component says where,
   * inside a class-map cell, the cell's receptive field is centred, as a fraction of the
   * cell from its top-left edge ({@code camCellCentre} in the descriptor; default 0.5, the middle).
   * A net of k×k stride-2 convolutions with padding (k−1)/2 centres cell j of its 1/s-resolution
   * maps on pixel s·j, i.e. 1/(2s) into the cell: 0.0625 for the shipped net's 1/8 maps. CAM peaks
   * and boxes are placed by it.
   */
  public static final float CELL_MIDDLE = 0.5f;

  /** The file, next to the {@code .onnx}, that describes the model. */
  public static final String DESCRIPTOR = "model.json";

  static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
  static final int DEFAULT_SIZE = 224;
  /** Ops that hand their one input on unchanged, in its type. */
  private static final Set<String> SAME_TYPE = Set.of("Identity", "Dropout");
  /** Ops that hand their one input on unchanged in value, {@code Cast} in another type. */
  private static final Set<String> PASS_THROUGH = Set.of("Identity", "Dropout", "Cast");

  /** Validates and copies; throws {@link ModelException} describing the first problem found. */
  public ModelSpec {
    require(name != null && !name.isBlank(), "name is missing");
    require(version != null, "version is missing");
    require(inputName != null && !inputName.isBlank(), "input name is missing");
    require("NCHW".equals(layout), "layout '" + layout + "' is not supported (only NCHW)");
    require(channelOrder != null, "channelOrder is missing");
    require(pixelScale > 0 && Float.isFinite(pixelScale), "pixelScale must be > 0");
    require(mean != null && mean.length == 3, "mean must have 3 values");
    require(std != null && std.length == 3, "std must have 3 values");
    for (float s : std) {
      require(s > 0 && Float.isFinite(s), "std values must be > 0");
    }
    // Pixels reach the model as value / pixelScale: a mean or std for 0-255 pixels (123.675 and
    // 58.395, say) against the default pixelScale 255 turned every frame into a near-constant input.
    float range = 255f / pixelScale;
    for (int c = 0; c < 3; c++) {
      require(mean[c] >= -range && mean[c] <= range && std[c] <= range, String.format(
          "mean %s and std %s do not fit pixels of 0 to %s (0-255 / pixelScale %s): values for 0-255 pixels"
              + " need \"pixelScale\": 1", Arrays.toString(mean), Arrays.toString(std), range, pixelScale));
    }
    require(minWidth >= 0 && minHeight >= 0, "minSize must not be negative");
    require(fixedWidth >= 0 && fixedHeight >= 0, "fixedSize must not be negative");
    require((fixedWidth > 0) == (fixedHeight > 0), "fixedSize needs both width and height, not only one");
    require(maxSide >= 0, "maxSide must not be negative");
    require(
        maxSide == 0 || maxSide >= Math.max(minWidth, minHeight),
        "maxSide " + maxSide + " is below minSize " + minWidth + "x" + minHeight);
    require(logitsOutput != null && !logitsOutput.isBlank(), "logits output is missing");
    require(camCellCentre >= 0 && camCellCentre <= 1, "camCellCentre must be in [0, 1]");
    require(head != null, "head is missing");
    mean = mean.clone();
    std = std.clone();
    labels = List.copyOf(labels);
  }

  /**
   * The model file a configured path names: the path itself, or {@code model.onnx} inside it when
   * it is a directory (a model directory holds the ONNX file and its descriptor).
   */
  public static Path modelFile(Path fileOrDirectory) {
    return java.nio.file.Files.isDirectory(fileOrDirectory)
        ? fileOrDirectory.resolve("model.onnx")
        : fileOrDirectory;
  }

  /**
   * Loads the spec of {@code onnxFile}: from {@value #DESCRIPTOR} in the same directory when
   * present, else defaults for a bare ImageNet-style model (a fixed size: the input's, else
   * 224×224; ImageNet mean/std, RGB, the graph's first input and output, labels {@code
   * class-0…}).
   *
   * @throws ModelException naming the file and the problem when either file is missing or invalid
   */
  public static ModelSpec load(Path onnxFile) {
    return load(onnxFile, OnnxGraph.read(onnxFile));
  }

  /**
   * As {@link #load(Path)}, reusing an already parsed graph of {@code onnxFile}. A logits output
   * computed by a {@code Softmax} or {@code LogSoftmax} (a model whose output is probabilities) is
   * read before it: the pipeline takes the softmax of what it reads, and a second one flattened the
   * scores (0.9 of 6 classes came out as 0.33), while the GAP head, behind the Softmax, went
   * undetected. One computed by a {@code Sigmoid} (a multi-label head) is refused.
   */
  public static ModelSpec load(Path onnxFile, OnnxGraph graph) {
    Path dir = onnxFile.toAbsolutePath().getParent();
    Path descriptor = dir == null ? Path.of(DESCRIPTOR) : dir.resolve(DESCRIPTOR);
    ModelSpec spec;
    if (Files.exists(descriptor)) {
      spec = DescriptorReader.read(descriptor);
    } else {
      spec = defaults(onnxFile, graph);
      LoggerFactory.getLogger(ModelSpec.class).warn(
          "{}: no {} beside it, so it is read as a bare ImageNet-style model: input {}x{}, RGB scaled to"
              + " 0..1, ImageNet mean and std, labels class-0 to class-{}; a model trained otherwise needs its {}",
          onnxFile, DESCRIPTOR, spec.fixedWidth(), spec.fixedHeight(), spec.labels().size() - 1, DESCRIPTOR);
    }
    if (scorer(graph, spec.logitsOutput(), PASS_THROUGH).filter(node -> node.getOpType().equals("Sigmoid")).isPresent()) {
      // A softmax of sigmoids flattens every score (0.99 of 6 classes came out as 0.35).
      throw new ModelException(
          onnxFile + ": output '" + spec.logitsOutput() + "' is computed by a Sigmoid, a multi-label head that"
              + " scores each class on its own; gapstream scores one class of several with a softmax."
              + " Serve a single-label classifier (its logits, or their Softmax)");
    }
    String logits = beforeSoftmax(graph, spec.logitsOutput());
    return logits.equals(spec.logitsOutput()) ? spec : spec.withLogits(logits, GapHeadDetector.detect(graph, logits).kind());
  }

  /**
   * The input of the {@code Softmax} or {@code LogSoftmax} that computes {@code tensor}, maybe
   * behind {@code Identity} or {@code Dropout}, else {@code tensor}: the softmax of either is the
   * softmax of that input. Not behind a {@code Cast}: that input is of another type (a float16
   * conversion that keeps float32 outputs runs the Softmax in float16), and the probabilities are
   * read instead ({@link #readsProbabilities}).
   */
  static String beforeSoftmax(OnnxGraph graph, String tensor) {
    return scorer(graph, tensor, SAME_TYPE)
        .filter(node -> node.getOpType().equals("Softmax") || node.getOpType().equals("LogSoftmax"))
        .map(node -> node.getInput(0))
        .orElse(tensor);
  }

  /**
   * Whether {@code tensor} holds a {@code Softmax}'s probabilities, cast from another type: read as
   * they are, they are not logits, and their softmax flattened the scores (0.93 of 4 classes came
   * out as 0.45). The softmax of a {@code LogSoftmax}'s output is right as it is.
   */
  static boolean readsProbabilities(OnnxGraph graph, String tensor) {
    return scorer(graph, tensor, PASS_THROUGH).filter(node -> node.getOpType().equals("Softmax")).isPresent()
        && beforeSoftmax(graph, tensor).equals(tensor);
  }

  /** The node that computes {@code tensor}'s values: its producer, stepping back over {@code ops}. */
  private static Optional<NodeProto> scorer(OnnxGraph graph, String tensor, Set<String> ops) {
    Optional<NodeProto> n = graph.producer(tensor);
    while (n.isPresent() && ops.contains(n.get().getOpType())) {
      n = graph.producer(n.get().getInput(0));
    }
    return n;
  }

  /** This spec reading its scores from {@code logits}, whose head is {@code head}. */
  ModelSpec withLogits(String logits, HeadKind head) {
    return new ModelSpec(
        name, version, inputName, layout, channelOrder, pixelScale, mean, std, minWidth, minHeight,
        fixedWidth, fixedHeight, maxSide, labels, logits, camOutput, head, camCellCentre);
  }

  /**
   * The defaults for a bare ImageNet-style model, from its graph: a fixed size of the input's height
   * and width where the graph fixes them, else 224.
   */
  static ModelSpec defaults(Path onnxFile, OnnxGraph graph) {
    if (graph.inputs().isEmpty() || graph.outputs().isEmpty()) {
      throw new ModelException(onnxFile + ": model has no inputs or no outputs");
    }
    TensorInfo input = graph.inputs().get(0);
    int width = input.dim(3) > 0 ? (int) input.dim(3) : DEFAULT_SIZE;
    int height = input.dim(2) > 0 ? (int) input.dim(2) : DEFAULT_SIZE;
    TensorInfo logits = graph.outputs().get(0);
    List<String> labels = new ArrayList<>();
    for (long c = 0; c < logits.dim(1); c++) {
      labels.add("class-" + c);
    }
    String file = onnxFile.getFileName().toString();
    String name = file.endsWith(".onnx") ? file.substring(0, file.length() - 5) : file;
    return new ModelSpec(
        name,
        "0",
        input.name(),
        "NCHW",
        ChannelOrder.RGB,
        255f,
        IMAGENET_MEAN,
        IMAGENET_STD,
        width,
        height,
        width,
        height,
        0,
        labels,
        logits.name(),
        null,
        GapHeadDetector.detect(graph, logits.name()).kind(),
        CELL_MIDDLE);
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  /**
   * The longest side this model's frames run at under {@code ingest.resize.max.side} = {@code
   * configured}: the model's own {@link #maxSide} for -1, else {@code configured} (0: their own
   * size); 0 for a fixed-size model, whose frames are resized to its input instead.
   */
  public int maxSide(int configured) {
    if (isFixedSize()) {
      return 0;
    }
    return configured < 0 ? maxSide : configured;
  }

  /** True when the model only accepts one input size. */
  public boolean isFixedSize() {
    return fixedWidth > 0 && fixedHeight > 0;
  }

  /** The label of class {@code index}, or {@code class-<index>} when the spec has fewer labels. */
  public String label(int index) {
    return index < labels.size() ? labels.get(index) : "class-" + index;
  }

  @Override
  public String toString() {
    return String.format(
        "ModelSpec[%s:%s input=%s %s %s scale=%s mean=%s std=%s min=%dx%d fixed=%dx%d maxSide=%d"
            + " labels=%d logits=%s cam=%s head=%s]",
        name,
        version,
        inputName,
        layout,
        channelOrder,
        pixelScale,
        Arrays.toString(mean),
        Arrays.toString(std),
        minWidth,
        minHeight,
        fixedWidth,
        fixedHeight,
        maxSide,
        labels.size(),
        logitsOutput,
        camOutput,
        head);
  }

  private static void require(boolean ok, String problem) {
    if (!ok) {
      throw new ModelException("invalid model spec: " + problem);
    }
  }
}
