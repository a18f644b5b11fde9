package dev.gapstream.inference;

import java.util.List;

/**
 * A graph input or output as declared in the ONNX file: its name, element type and shape. Each
 * dimension is its size as a decimal string, the symbolic name of a dynamic dimension (e.g. {@code
 * batch}), or {@code ?} when the file leaves it unnamed. Immutable.
 */
public record TensorInfo(String name, String type, List<String> dims) {

  public TensorInfo {
    dims = List.copyOf(dims);
  }

  /** The size of dimension {@code i}, or -1 when it is symbolic or unknown. */
  public long dim(int i) {
    if (i >= dims.size()) {
      return -1;
    }
    String d = dims.get(i);
    return d.chars().allMatch(Character::isDigit) && !d.isEmpty() ? Long.parseLong(d) : -1;
  }

  /** The shape as ONNX tools print it, e.g. {@code [batch, 3, 224, 224]}. */
  public String shape() {
    return "[" + String.join(", ", dims) + "]";
  }
}
