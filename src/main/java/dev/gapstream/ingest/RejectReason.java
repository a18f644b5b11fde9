package dev.gapstream.ingest;

import java.util.Arrays;
import java.util.List;

/** Why a frame went to the dead-letter topic; the wire value is the {@code dlq-reason} header. */
public enum RejectReason {
  /** Not an image format gapstream reads, or an unknown content type. */
  UNSUPPORTED_FORMAT("unsupported-format"),
  /** Empty, truncated or corrupt image data. */
  DECODE_ERROR("decode-error"),
  /**
   * More bytes than {@code ingest.max.frame.bytes}, or more pixels than {@code ingest.max.pixels}; or
   * a prediction larger than the predictions topic or the producer takes.
   */
  TOO_LARGE("too-large"),
  /** Dimensions the model cannot take, or raw pixels whose size does not match their headers. */
  BAD_SHAPE("bad-shape"),
  /** The model failed on the frame's batch, or gave a non-finite output for it. */
  INFERENCE_ERROR("inference-error"),
  /** Older than {@code ingest.max.frame.age.ms} when its turn came: skipped, not classified. */
  EXPIRED("expired");

  private final String wireName;

  RejectReason(String wireName) {
    this.wireName = wireName;
  }

  /** Every reason's {@link #wireName()}, in declaration order. */
  public static List<String> wireNames() {
    return Arrays.stream(values()).map(RejectReason::wireName).toList();
  }

  /** The value of the {@code dlq-reason} header and of the {@code reason} metric tag. */
  public String wireName() {
    return wireName;
  }
}
