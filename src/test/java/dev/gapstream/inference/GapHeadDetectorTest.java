package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Head detection on graphs built by hand: shapes of graphs no exporter here produces. */
class GapHeadDetectorTest {

  /** A graph builder: body conv "x" → "f" (4 channels), then whatever the test appends. */
  private static final class G {
    final GraphProto.Builder g = GraphProto.newBuilder().setName("g");

    G() {
      g.addInput(ValueInfoProto.newBuilder().setName("input"));
      floats("w0", 4, 3, 3, 3);
      node("Conv", "body", List.of("input", "w0"), "f");
    }

    G node(String op, String name, List<String> in, String out, AttributeProto... attrs) {
      g.addNode(
          NodeProto.newBuilder()
              .setOpType(op)
              .setName(name)
              .addAllInput(in)
              .addOutput(out)
              .addAllAttribute(List.of(attrs)));
      return this;
    }

    G floats(String name, long... dims) {
      TensorProto.Builder t =
          TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
      long n = 1;
      for (long d : dims) {
        t.addDims(d);
        n *= d;
      }
      for (int i = 0; i < n; i++) {
        t.addFloatData(i);
      }
      g.addInitializer(t);
      return this;
    }

    G ints(String name, long... values) {
      g.addInitializer(
          TensorProto.newBuilder()
              .setName(name)
              .setDataType(TensorProto.DataType.INT64_VALUE)
              .addDims(values.length)
              .addAllInt64Data(java.util.Arrays.stream(values).boxed().toList()));
      return this;
    }

    OnnxGraph build() {
      g.addOutput(ValueInfoProto.newBuilder().setName("logits"));
      return OnnxGraph.parse(
          ModelProto.newBuilder().setIrVersion(8).setGraph(g).build().toByteArray(), "test");
    }
  }

  private static AttributeProto ints(String name, long... v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INTS)
        .addAllInts(java.util.Arrays.stream(v).boxed().toList())
        .build();
  }

  private static AttributeProto i(String name, long v) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  @Test
  void reduceMeanWithAxesAttributeAfterClassMaps() {
    OnnxGraph g =
        new G()
            .floats("wc", 2, 4, 1, 1)
            .floats("bc", 2)
            .node("Conv", "cls", List.of("f", "wc", "bc"), "maps")
            .node(
                "ReduceMean",
                "gap",
                List.of("maps"),
                "logits",
                ints("axes", 2, 3),
                i("keepdims", 0))
            .build();
    GapHead h = GapHeadDetector.detect(g, "logits");
    assertThat(h.kind()).isEqualTo(HeadKind.CLASS_MAPS_GAP);
    assertThat(h.preGapTensor()).isEqualTo("maps");
    assertThat(h.featureTensor()).isEqualTo("f");
    assertThat(g.parameterCount(h.headNodes())).isEqualTo(10);
    assertThat(g.parameterCount()).isEqualTo(4 * 27 + 10);
  }

  /** An activation after the class-map convolution: the GAP averages its output, the class maps. */
  @Test
  void classMapsThroughALeakyReluOrAClip() {
    for (String activation : List.of("LeakyRelu", "Clip", "Sigmoid")) {
      OnnxGraph g =
          new G()
              .floats("wc", 2, 4, 1, 1)
              .node("Conv", "cls", List.of("f", "wc"), "raw")
              .node(activation, "act", List.of("raw"), "maps")
              .node("GlobalAveragePool", "gap", List.of("maps"), "pooled")
              .node("Flatten", "flat", List.of("pooled"), "logits")
              .build();
      GapHead h = GapHeadDetector.detect(g, "logits");
      assertThat(h.kind()).as(activation).isEqualTo(HeadKind.CLASS_MAPS_GAP);
      assertThat(h.preGapTensor()).as(activation).isEqualTo("maps");
    }
  }

  @Test
  void reduceMeanWithOpset18AxesInputThenMatMulAndAdd() {
    OnnxGraph g =
        new G()
            .ints("axes", -1, -2)
            .floats("w", 4, 3)
            .floats("b", 3)
            .node("ReduceMean", "gap", List.of("f", "axes"), "pooled", i("keepdims", 0))
            .node("MatMul", "fc", List.of("pooled", "w"), "mm")
            .node("Add", "bias", List.of("mm", "b"), "logits")
            .build();
    GapHead h = GapHeadDetector.detect(g, "logits");
    assertThat(h.kind()).isEqualTo(HeadKind.GAP_LINEAR);
    assertThat(h.preGapTensor()).isEqualTo("f");
    assertThat(g.parameterCount(h.headNodes())).isEqualTo(15);
    // MatMul stores W as [K=4][C=3]; class weights come back as [C][K]
    float[][] w = h.classWeights(g);
    assertThat(w).hasDimensions(3, 4);
    assertThat(w[1]).containsExactly(1f, 4f, 7f, 10f);
  }

  @Test
  void gemmWithTransposedWeightsKeepsRowsAsClasses() {
    OnnxGraph g =
        new G()
            .floats("w", 3, 4)
            .floats("b", 3)
            .node("GlobalAveragePool", "gap", List.of("f"), "pooled")
            .node("Flatten", "flat", List.of("pooled"), "flat")
            .node("Gemm", "fc", List.of("flat", "w", "b"), "logits", i("transB", 1))
            .build();
    GapHead h = GapHeadDetector.detect(g, "logits");
    assertThat(h.kind()).isEqualTo(HeadKind.GAP_LINEAR);
    assertThat(h.classifierName()).isEqualTo("fc");
    assertThat(h.classWeights(g)[2]).containsExactly(8f, 9f, 10f, 11f);
  }

  @Test
  void reduceMeanOverChannelsIsNotGap() {
    OnnxGraph g =
        new G()
            .floats("w", 3, 4)
            .node("ReduceMean", "mean", List.of("f"), "pooled", ints("axes", 1))
            .node("Gemm", "fc", List.of("pooled", "w"), "logits", i("transB", 1))
            .build();
    assertThat(GapHeadDetector.detect(g, "logits").kind()).isEqualTo(HeadKind.NONE);
  }

  @Test
  void denseLayerOverFlattenedMapOrMlpAfterGapIsNone() {
    OnnxGraph fc =
        new G()
            .floats("w", 3, 400)
            .node("Flatten", "flat", List.of("f"), "flat")
            .node("Gemm", "fc", List.of("flat", "w"), "logits", i("transB", 1))
            .build();
    assertThat(GapHeadDetector.detect(fc, "logits").kind()).isEqualTo(HeadKind.NONE);
    OnnxGraph mlp =
        new G()
            .floats("w1", 8, 4)
            .floats("w2", 3, 8)
            .node("GlobalAveragePool", "gap", List.of("f"), "pooled")
            .node("Flatten", "flat", List.of("pooled"), "flat")
            .node("Gemm", "fc1", List.of("flat", "w1"), "h", i("transB", 1))
            .node("Relu", "relu", List.of("h"), "hr")
            .node("Gemm", "fc2", List.of("hr", "w2"), "logits", i("transB", 1))
            .build();
    GapHead h = GapHeadDetector.detect(mlp, "logits");
    assertThat(h.kind()).isEqualTo(HeadKind.NONE);
    assertThat(h.headNodes()).isEmpty();
  }
}
