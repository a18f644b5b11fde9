package dev.gapstream.inference;

import ai.onnx.proto.OnnxMl.NodeProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code inspect} reports about a model: its interface, its head, and what the GAP head saves
 * over a fully connected one. Parameter counts are elements of floating-point initializers, counted
 * per layer (see {@link OnnxGraph#parameterCount()}); {@code storedParams} is what the file holds
 * after the exporter shared equal tensors. {@code featureShape}, {@code fcHeadParams} and {@code
 * fcHeadRatio} are null when the model has no GAP head. Immutable; serialises to JSON as is.
 *
 * @param featureShape [C, h, w] of the last feature map at the nominal input size
 * @param fcHeadParams C·h·w·classes + classes: an FC head over that map flattened
 * @param fcHeadRatio fcHeadParams / headParams
 * @param cam where class activation maps come from ({@link CamPlan#describe()}), never null
 */
public record ModelAnalysis(
    String model,
    int opset,
    int nodeCount,
    List<TensorInfo> inputs,
    List<TensorInfo> outputs,
    String head,
    String gapOp,
    String classifier,
    String preGapTensor,
    String featureTensor,
    int classes,
    long totalParams,
    long bodyParams,
    long headParams,
    long storedParams,
    int nominalWidth,
    int nominalHeight,
    List<Long> featureShape,
    Long fcHeadParams,
    Double fcHeadRatio,
    String cam) {

  public ModelAnalysis {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    featureShape = featureShape == null ? null : List.copyOf(featureShape);
  }

  /**
   * Analyses {@code onnxFile}, using its {@code model.json} when present. Runs the model once
   * through ONNX Runtime (on one blank image) to measure the last feature map. Blocking.
   *
   * @throws ModelException when the file or its descriptor is missing or invalid
   */
  public static ModelAnalysis analyze(Path onnxFile) {
    OnnxGraph graph = OnnxGraph.read(onnxFile);
    ModelSpec spec = ModelSpec.load(onnxFile, graph);
    GapHead head = GapHeadDetector.detect(graph, spec.logitsOutput());
    long total = graph.parameterCount();
    long headParams = graph.parameterCount(head.headNodes());
    int[] size = nominalSize(spec, graph);
    int classes = classCount(graph, head, spec);
    List<Long> feature = null;
    Long fc = null;
    Double ratio = null;
    if (head.kind() != HeadKind.NONE) {
      long[] s =
          FeatureProbe.shape(graph, spec.inputName(), head.featureTensor(), size[0], size[1]);
      feature = new ArrayList<>();
      long flat = 1;
      for (long d : s) {
        feature.add(d);
        flat *= d;
      }
      fc = flat * classes + classes;
      ratio = headParams == 0 ? null : (double) fc / headParams;
    }
    return new ModelAnalysis(
        onnxFile.toString(),
        graph.opset(),
        graph.nodeCount(),
        graph.inputs(),
        graph.outputs(),
        head.kind().id(),
        head.gapOp(),
        head.classifierName(),
        head.preGapTensor(),
        head.featureTensor(),
        classes,
        total,
        total - headParams,
        headParams,
        graph.storedParameterCount(),
        size[0],
        size[1],
        feature,
        fc,
        ratio,
        CamPlan.of(graph, spec).describe());
  }

  /** The descriptor's fixed size, else the input's static H and W, else 224×224. */
  private static int[] nominalSize(ModelSpec spec, OnnxGraph graph) {
    if (spec.isFixedSize()) {
      return new int[] {spec.fixedWidth(), spec.fixedHeight()};
    }
    for (TensorInfo in : graph.inputs()) {
      if (in.name().equals(spec.inputName()) && in.dim(2) > 0 && in.dim(3) > 0) {
        return new int[] {(int) in.dim(3), (int) in.dim(2)};
      }
    }
    return new int[] {ModelSpec.DEFAULT_SIZE, ModelSpec.DEFAULT_SIZE};
  }

  /** Classes as the classifier's weights say, falling back to the spec's labels. */
  private static int classCount(OnnxGraph graph, GapHead head, ModelSpec spec) {
    NodeProto c = head.classifier();
    if (c != null) {
      long[] dims = graph.initializerDims(c.getInput(1)).orElse(new long[0]);
      boolean rows =
          c.getOpType().equals("Conv")
              || (c.getOpType().equals("Gemm") && GapHead.intAttribute(c, "transB") == 1);
      if (dims.length >= 2) {
        return (int) (rows ? dims[0] : dims[1]);
      }
    }
    return spec.labels().size();
  }
}
