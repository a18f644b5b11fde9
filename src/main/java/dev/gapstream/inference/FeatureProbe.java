package dev.gapstream.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Measures the shape of an intermediate tensor by running the model once on a blank image with that
 * tensor added as a graph output. Simpler and more faithful than re-deriving strides and paddings
 * of every Conv and Pool node. Stateless; each call opens and closes its own session.
 */
final class FeatureProbe {
  private FeatureProbe() {}

  /**
   * The shape of {@code tensor} for one {@code width}×{@code height} image, batch dimension dropped
   * (e.g. {@code [512, 7, 7]}).
   *
   * @throws ModelException when ONNX Runtime cannot load or run the model
   */
  static long[] shape(OnnxGraph graph, String input, String tensor, int width, int height) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(1);
      try (OrtSession session =
              InferenceEngine.createSession(env, graph, List.of(tensor), opts);
          OnnxTensor in =
              OnnxTensor.createTensor(
                  env, FloatBuffer.allocate(3 * width * height), new long[] {1, 3, height, width});
          OrtSession.Result r = session.run(Map.of(input, in), Set.of(tensor))) {
        long[] s = ((OnnxTensor) r.get(0)).getInfo().getShape();
        return java.util.Arrays.copyOfRange(s, 1, s.length);
      }
    } catch (OrtException e) {
      throw new ModelException(
          graph.source() + ": cannot run the model to measure '" + tensor + "': " + e.getMessage(),
          e);
    }
  }
}
