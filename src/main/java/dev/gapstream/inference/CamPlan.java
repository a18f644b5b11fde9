package dev.gapstream.inference;

import java.util.Objects;

/**
 * Where a model's class activation maps come from, decided once per model from its graph and spec:
 * a class-map tensor read as it is, pre-GAP features combined with the linear layer's weights
 * (Σ_k w_ck·f_k), or nothing. Immutable.
 *
 * @param kind the path taken
 * @param tensor the tensor to fetch besides the logits (the class maps or the pre-GAP features);
 *     null for {@link Kind#NONE}
 * @param head the detected head; for {@link Kind#FEATURES} its classifier holds the weights
 */
public record CamPlan(Kind kind, String tensor, GapHead head) {

  /** The CAM paths. */
  public enum Kind {
    /** The graph computes one map per class; the engine fetches them as they are. */
    CLASS_MAPS,
    /** GAP then linear: the engine fetches the pre-GAP features; maps are computed per class. */
    FEATURES,
    /** No class activation maps: no GAP head, or the engine was opened without them. */
    NONE
  }

  public CamPlan {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(head, "head");
  }

  /**
   * The plan for a model: the spec's class-map output when it names one, else what the GAP head
   * detected behind the spec's logits output allows.
   */
  public static CamPlan of(OnnxGraph graph, ModelSpec spec) {
    GapHead head = GapHeadDetector.detect(graph, spec.logitsOutput());
    if (spec.camOutput() != null) {
      return new CamPlan(Kind.CLASS_MAPS, spec.camOutput(), head);
    }
    return switch (head.kind()) {
      case CLASS_MAPS_GAP -> new CamPlan(Kind.CLASS_MAPS, head.preGapTensor(), head);
      case GAP_LINEAR -> new CamPlan(Kind.FEATURES, head.preGapTensor(), head);
      case NONE -> new CamPlan(Kind.NONE, null, head);
    };
  }

  /**
   * The same head with no maps taken from it: the engine fetches no map tensor (the graph is still
   * rewritten where the pre-Softmax logits are an inner tensor).
   */
  public CamPlan off() {
    return new CamPlan(Kind.NONE, null, head);
  }

  /**
   * True when {@link #tensor} is the head's pre-GAP tensor but not a declared output, so the graph
   * must be rewritten to return it. A spec's class-map output is never added: a name the graph
   * lacks must fail the load, not become a dangling output.
   */
  public boolean needsExtraOutput(OnnxGraph graph) {
    return tensor != null
        && tensor.equals(head.preGapTensor())
        && graph.outputs().stream().noneMatch(o -> o.name().equals(tensor));
  }

  /** The initializer holding the classifier's weights, or null without a classifier. */
  public String weightsName() {
    return head.classifier() == null ? null : head.classifier().getInput(1);
  }

  /** One line for {@code inspect} and the load log, e.g. {@code class-map output `cam`}. */
  public String describe() {
    return switch (kind) {
      case CLASS_MAPS -> "class-map output `" + tensor + "`";
      case FEATURES ->
          "computed from feature map `" + tensor + "` and weights of `" + weightsName() + "`";
      case NONE -> "none";
    };
  }
}
