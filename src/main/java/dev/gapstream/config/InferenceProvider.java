package dev.gapstream.config;

import java.util.Arrays;
import java.util.List;

/** The ONNX Runtime execution provider, configured as {@code inference.provider}. */
public enum InferenceProvider {
  /** The default CPU provider, shipped in the default build. */
  CPU("cpu"),
  /** NVIDIA CUDA; needs the {@code cuda} Maven profile (onnxruntime_gpu) and a GPU. */
  CUDA("cuda");

  private final String id;

  InferenceProvider(String id) {
    this.id = id;
  }

  /** The configuration value, e.g. {@code cpu}. */
  public String id() {
    return id;
  }

  /** All configuration values, in declaration order. */
  public static List<String> ids() {
    return Arrays.stream(values()).map(InferenceProvider::id).toList();
  }

  /** The constant for a configuration value. */
  public static InferenceProvider fromId(String id) {
    for (InferenceProvider p : values()) {
      if (p.id.equals(id)) {
        return p;
      }
    }
    throw new ConfigException("inference.provider: \"" + id + "\" is not one of " + ids());
  }
}
