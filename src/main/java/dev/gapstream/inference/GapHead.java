package dev.gapstream.inference;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.List;

/**
 * What {@link GapHeadDetector} found at the end of a classifier graph. Immutable.
 *
 * <p>{@code preGapTensor} is the tensor the GAP averages: the class maps for a {@link
 * HeadKind#CLASS_MAPS_GAP} head, the last feature maps for a {@link HeadKind#GAP_LINEAR} head (the
 * tensor to expose as an extra output to compute CAMs). {@code featureTensor} is the last feature
 * map before the classifier: an FC head would flatten it. All tensor and node fields are null for
 * {@link HeadKind#NONE}; {@code headNodes} is then empty.
 */
public record GapHead(
    HeadKind kind,
    String gapOp,
    String preGapTensor,
    String featureTensor,
    NodeProto classifier,
    List<NodeProto> headNodes) {

  public GapHead {
    headNodes = List.copyOf(headNodes);
  }

  static GapHead none() {
    return new GapHead(HeadKind.NONE, null, null, null, null, List.of());
  }

  /** The classifier node's name (or op type when unnamed), or null when there is no GAP head. */
  public String classifierName() {
    if (classifier == null) {
      return null;
    }
    return classifier.getName().isEmpty() ? classifier.getOpType() : classifier.getName();
  }

  /**
   * The classifier's weights as {@code [classes][features]}: row c holds w_c·, the weights that map
   * the K pre-GAP channels (or, for class maps, the K input channels of the 1×1 convolution) to
   * class c. Whatever layout the graph stores (Gemm with or without transB, MatMul, Conv; a grouped
   * Conv's weights zero outside each class's group), the result is in this one layout.
   *
   * @throws ModelException when there is no classifier, or its weights are not a FLOAT initializer
   *     of the expected shape (e.g. a class-map convolution wider than 1×1)
   */
  public float[][] classWeights(OnnxGraph graph) {
    if (classifier == null) {
      throw new ModelException(graph.source() + ": model has no GAP head, so no class weights");
    }
    String w = classifier.getInput(1);
    long[] dims = graph.initializerDims(w).orElseThrow(() -> noWeights(graph));
    float[] flat = graph.floats(w);
    String op = classifier.getOpType();
    boolean rowsAreClasses;
    if (op.equals("Conv")) {
      if (dims.length != 4 || dims[2] != 1 || dims[3] != 1) {
        throw new ModelException(
            graph.source() + ": classifier " + classifierName() + " is not 1×1");
      }
      rowsAreClasses = true;
    } else if (op.equals("Gemm")) {
      if (intAttribute(classifier, "transA") == 1) {
        throw new ModelException(graph.source() + ": classifier " + classifierName()
            + " is a Gemm with transA=1, which takes the pooled features as columns; CAMs read them as rows");
      }
      rowsAreClasses = intAttribute(classifier, "transB") == 1;
    } else {
      rowsAreClasses = false; // MatMul: x[N,K] · W[K,C]
    }
    int rows = (int) dims[0];
    int cols = flat.length / rows;
    int classes = rowsAreClasses ? rows : cols;
    // A grouped 1×1 convolution (group g) stores [C, K/g, 1, 1]: class c sees only the K/g
    // features of its group, c / (C/g). Read as [C][K/g], its maps took the wrong features, and
    // every batch failed on "weights take K/g features, the feature map has K channels".
    int groups = op.equals("Conv") ? (int) Math.max(1, intAttribute(classifier, "group")) : 1;
    int features = rowsAreClasses ? cols * groups : rows;
    // Gemm computes alpha·x·W: a map made without alpha would be scaled, or flipped where it is negative
    float alpha = op.equals("Gemm") ? floatAttribute(classifier, "alpha", 1f) : 1f;
    float[][] out = new float[classes][features];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        float v = alpha * flat[r * cols + c];
        if (rowsAreClasses) {
          out[r][r / (rows / groups) * cols + c] = v; // zero outside the class's group
        } else {
          out[c][r] = v;
        }
      }
    }
    return out;
  }

  private ModelException noWeights(OnnxGraph graph) {
    return new ModelException(
        graph.source() + ": classifier " + classifierName() + " has no weight initializer");
  }

  static float floatAttribute(NodeProto node, String name, float absent) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getF();
      }
    }
    return absent;
  }

  static long intAttribute(NodeProto node, String name) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return 0;
  }
}
