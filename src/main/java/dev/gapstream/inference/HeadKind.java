package dev.gapstream.inference;

import java.util.Locale;

/**
 * How a classifier turns its last feature maps into class scores. The kind decides how a class
 * activation map is obtained: read directly from the class maps, or computed from the pre-GAP
 * features and the linear layer's weights; a model without a GAP head has none.
 */
public enum HeadKind {
  /** A convolution produces one map per class; GAP of each map is that class's logit. */
  CLASS_MAPS_GAP("class-maps-gap"),
  /** GAP of the feature maps, then one linear layer (Gemm, MatMul or 1×1 Conv) to the logits. */
  GAP_LINEAR("gap-linear"),
  /** Anything else, e.g. a fully connected layer over a flattened fixed-size map. */
  NONE("none");

  private final String id;

  HeadKind(String id) {
    this.id = id;
  }

  /** The name used in {@code model.json}, in reports and in the {@code head} metric tag. */
  public String id() {
    return id;
  }

  /**
   * Parses a descriptor's {@code head} value.
   *
   * @throws IllegalArgumentException naming the allowed values when {@code id} is unknown
   */
  public static HeadKind fromId(String id) {
    for (HeadKind k : values()) {
      if (k.id.equals(id.toLowerCase(Locale.ROOT))) {
        return k;
      }
    }
    throw new IllegalArgumentException(
        "unknown head '" + id + "' (expected class-maps-gap, gap-linear or none)");
  }

  @Override
  public String toString() {
    return id;
  }
}
