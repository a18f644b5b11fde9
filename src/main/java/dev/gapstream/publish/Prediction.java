package dev.gapstream.publish;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One frame's prediction as published on the predictions topic (the message contract in the
 * README). Serialised by {@link PredictionJson}; field order is the contract's.
 *
 * @param cam null when CAM is disabled or the model has no GAP head
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Prediction(
    String frameId,
    Source source,
    Model model,
    List<Score> top,
    Cam cam,
    int batchSize,
    Latency latencyMs) {

  /** Where the frame came from; {@code timestamp} is the record's, in epoch milliseconds. */
  public record Source(String topic, int partition, long offset, long timestamp) {}

  public record Model(String name, String version) {}

  /** A class and its softmax probability. */
  public record Score(String label, int index, double score) {}

  /**
   * Where the top class was seen: coordinates are fractions of the frame's width and height.
   *
   * @param box {@code [x0, y0, x1, y1]}
   * @param heatmap null unless {@code cam.heatmap} is on
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Cam(String label, Point peak, double[] box, Heatmap heatmap) {}

  public record Point(double x, double y) {}

  /**
   * The class map quantised to 8 bits (0 = the map's minimum, 255 its maximum), row-major, base64.
   *
   * @param cellWidth the share of the frame's width one cell covers, from its left edge: {@code 1 /
   *     width} where the cells tile the frame, more where the frame's width is not a multiple of
   *     the model's stride and the last column reaches past its edge
   * @param cellHeight the same down the frame
   * @param cellCentre where in its cell a cell's receptive field is centred, as a share of the cell:
   *     cell (i, j) is centred at ((j + cellCentre)·cellWidth, (i + cellCentre)·cellHeight), where
   *     the peak is placed, and covers one cell around that (0.0625 for the shipped model: three
   *     padded stride-2 convolutions; 0.5 for a cell centred in itself)
   */
  public record Heatmap(int width, int height, double cellWidth, double cellHeight, double cellCentre, String data) {}

  /**
   * Milliseconds: {@code queue} from consumption to the start of inference (decode and batching
   * included), {@code inference} from the start of its batch's first run to the end of its own (the
   * whole batch's where it runs in one), {@code endToEnd} from the record's timestamp to the end of
   * the frame's inference, when the prediction is made (it cannot count its own sending; the
   * end-to-end timer runs on to the broker's acknowledgement, or the transaction's commit).
   */
  public record Latency(double queue, double inference, double endToEnd) {}
}
