package dev.gapstream.live;

import dev.gapstream.inference.ClassActivationMap;
import dev.gapstream.publish.Prediction;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Base64;

/**
 * One sampled frame, captured on the inference worker: its own copy of the pixels and the
 * prediction, everything the render thread needs. {@link #toJson(byte[])} builds the {@code frame}
 * event the page reads.
 *
 * @param width the frame's width, as it was classified
 * @param height its height
 * @param pixels a private copy of its pixels ({@link FrameRenderer#copy}), smaller for a large frame
 * @param cam the top class's map, or null; {@code CamExtractor} allocates a fresh map per
 *     prediction, so keeping the reference is safe
 */
record FrameEvent(
    int width, int height, FrameRenderer.Pixels pixels, Prediction prediction, ClassActivationMap cam) {

  /** The event's JSON: ids, scores, CAM peak and box, latency, and the thumbnail as a data URI. */
  JsonObject toJson(byte[] jpeg) {
    JsonArray top = new JsonArray();
    for (Prediction.Score s : prediction.top()) {
      top.add(new JsonObject().put("label", s.label()).put("index", s.index()).put("score", s.score()));
    }
    JsonObject json =
        new JsonObject()
            .put("frameId", prediction.frameId())
            .put("width", width)
            .put("height", height)
            .put("top", top)
            .put("batchSize", prediction.batchSize())
            .put("endToEndMs", prediction.latencyMs().endToEnd())
            .put("inferenceMs", prediction.latencyMs().inference())
            .put("image", "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(jpeg));
    Prediction.Cam c = prediction.cam();
    if (c != null) {
      json.put(
          "cam",
          new JsonObject()
              .put("label", c.label())
              .put("peak", new JsonObject().put("x", c.peak().x()).put("y", c.peak().y()))
              .put("box", new JsonArray().add(c.box()[0]).add(c.box()[1]).add(c.box()[2]).add(c.box()[3])));
    }
    return json;
  }
}
