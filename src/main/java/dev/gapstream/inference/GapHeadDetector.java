package dev.gapstream.inference;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds a global-average-pooling head by walking back from the logits output.
 *
 * <p>Recognised: {@code Conv → [an activation] → GAP → [Flatten|Reshape|Squeeze] → logits}
 * (class maps, e.g. SqueezeNet) and {@code GAP → [Flatten|Reshape|Squeeze] → Gemm|MatMul[+Add]|1×1
 * Conv → logits} (e.g. ResNet, MobileNetV2). GAP is {@code GlobalAveragePool} or {@code
 * ReduceMean} over axes 2 and 3, given as an attribute or (opset 18) as a constant second input.
 * Anything else, e.g. a dense layer over a flattened map or an MLP after the GAP, is {@link
 * HeadKind#NONE}: its class scores have no per-location map. Stateless and thread-safe.
 */
public final class GapHeadDetector {
  /** Ops that only reshape or pass values through between the GAP and the logits. */
  private static final Set<String> RESHAPES =
      Set.of("Flatten", "Reshape", "Squeeze", "Identity", "Dropout");

  /**
   * Per-element ops allowed between the class-map convolution and the GAP: whatever they do to a
   * map, the GAP averages what comes out of them, so that is the class map (ReLU6 is exported as
   * Clip).
   */
  private static final Set<String> ACTIVATIONS =
      Set.of("Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "Elu", "Selu", "Softplus",
          "Identity", "Dropout");

  private GapHeadDetector() {}

  /** Classifies the head that computes {@code logitsTensor}; never null. */
  public static GapHead detect(OnnxGraph graph, String logitsTensor) {
    NodeProto n = skip(graph, logitsTensor, RESHAPES);
    if (n == null) {
      return GapHead.none();
    }
    if (isGap(graph, n)) {
      return classMaps(graph, n);
    }
    List<NodeProto> head = new ArrayList<>();
    if (n.getOpType().equals("Add") && biasInput(graph, n) >= 0) {
      head.add(n);
      n = graph.producer(n.getInput(1 - biasInput(graph, n))).orElse(null);
    }
    if (n == null || !isLinear(graph, n)) {
      return GapHead.none();
    }
    head.add(0, n);
    NodeProto gap = skip(graph, n.getInput(0), RESHAPES);
    if (gap == null || !isGap(graph, gap)) {
      return GapHead.none();
    }
    String pre = gap.getInput(0);
    return new GapHead(HeadKind.GAP_LINEAR, gap.getOpType(), pre, pre, n, head);
  }

  private static GapHead classMaps(OnnxGraph graph, NodeProto gap) {
    String pre = gap.getInput(0);
    NodeProto conv = skip(graph, pre, ACTIVATIONS);
    if (conv == null
        || !conv.getOpType().equals("Conv")
        || !graph.isInitializer(conv.getInput(1))) {
      return GapHead.none();
    }
    return new GapHead(
        HeadKind.CLASS_MAPS_GAP, gap.getOpType(), pre, conv.getInput(0), conv, List.of(conv));
  }

  /** The producer of {@code tensor}, after stepping back over any single-input {@code ops}. */
  private static NodeProto skip(OnnxGraph graph, String tensor, Set<String> ops) {
    NodeProto n = graph.producer(tensor).orElse(null);
    while (n != null && ops.contains(n.getOpType())) {
      n = graph.producer(n.getInput(0)).orElse(null);
    }
    return n;
  }

  static boolean isGap(OnnxGraph graph, NodeProto n) {
    if (n.getOpType().equals("GlobalAveragePool")) {
      return true;
    }
    if (!n.getOpType().equals("ReduceMean")) {
      return false;
    }
    Optional<long[]> axes = attributeInts(n, "axes");
    if (axes.isEmpty() && n.getInputCount() > 1) {
      axes = graph.constantInts(n.getInput(1));
    }
    return axes.map(a -> spatialAxes(a)).orElse(false);
  }

  /** True for {2,3} or {-2,-1} on a 4-D NCHW tensor, in any order. */
  private static boolean spatialAxes(long[] axes) {
    long[] norm = Arrays.stream(axes).map(a -> a < 0 ? a + 4 : a).sorted().toArray();
    return Arrays.equals(norm, new long[] {2, 3});
  }

  private static boolean isLinear(OnnxGraph graph, NodeProto n) {
    String op = n.getOpType();
    if (n.getInputCount() < 2 || !graph.isInitializer(n.getInput(1))) {
      return false;
    }
    if (op.equals("Gemm") || op.equals("MatMul")) {
      return true;
    }
    if (op.equals("Conv")) {
      long[] dims = graph.initializerDims(n.getInput(1)).orElse(new long[0]);
      return dims.length == 4 && dims[2] == 1 && dims[3] == 1;
    }
    return false;
  }

  /** Index of the initializer input of a two-input Add (a bias), or -1. */
  private static int biasInput(OnnxGraph graph, NodeProto add) {
    for (int i = 0; i < 2 && i < add.getInputCount(); i++) {
      if (graph.isInitializer(add.getInput(i))) {
        return i;
      }
    }
    return -1;
  }

  private static Optional<long[]> attributeInts(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return Optional.of(a.getIntsList().stream().mapToLong(Long::longValue).toArray());
      }
    }
    return Optional.empty();
  }
}
