package dev.gapstream.ingest;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * A consumed frame on its way through the pipeline: the Kafka record it came in (kept whole, so a
 * dead letter can carry the original key, value and headers), its decoded pixels once decoded, and
 * the timestamps the latency figures need.
 *
 * <p>Created and finished on the consumer's event loop; the decoded pixels are written by a decode
 * worker and read by an inference worker, each hand-over going through a Vert.x future (which
 * publishes the writes).
 */
public final class Frame {

  public static final String FRAME_ID_HEADER = "frame-id";
  public static final String TRACEPARENT_HEADER = "traceparent";
  public static final String CONTENT_TYPE_HEADER = "content-type";
  public static final String WIDTH_HEADER = "width";
  public static final String HEIGHT_HEADER = "height";

  private final ConsumerRecord<byte[], byte[]> record;
  private final OffsetTracker tracker;
  private final String frameId;
  private final long consumedAtNanos;
  private DecodedFrame pixels;
  private long decodedAtNanos;

  public Frame(ConsumerRecord<byte[], byte[]> record, OffsetTracker tracker, long consumedAtNanos) {
    this.record = record;
    this.tracker = tracker;
    this.consumedAtNanos = consumedAtNanos;
    String id = header(FRAME_ID_HEADER);
    this.frameId = id != null && !id.isEmpty() ? id : source();
  }

  public ConsumerRecord<byte[], byte[]> record() {
    return record;
  }

  /** The tracker of the partition assignment this frame was consumed under. */
  public OffsetTracker tracker() {
    return tracker;
  }

  /**
   * The {@code frame-id} header, else (absent, or empty: no id to match a prediction by) {@code
   * topic-partition-offset}.
   */
  public String frameId() {
    return frameId;
  }

  /** {@code topic-partition-offset}: where the frame came from, for logs and dead letters. */
  public String source() {
    return record.topic() + "-" + record.partition() + "-" + record.offset();
  }

  public long consumedAtNanos() {
    return consumedAtNanos;
  }

  public DecodedFrame pixels() {
    return pixels;
  }

  public long decodedAtNanos() {
    return decodedAtNanos;
  }

  public void decoded(DecodedFrame pixels, long atNanos) {
    this.pixels = pixels;
    this.decodedAtNanos = atNanos;
  }

  /**
   * Hands the pixels back once the frame's outcome is known (see {@link DecodedFrame#release()}), so
   * a waiting publish holds no image and the next frame reuses the array. Safe to call twice.
   */
  public void releasePixels() {
    if (pixels != null) {
      pixels.release();
      pixels = null;
    }
  }

  /** The last value of a header as UTF-8 text, or null when absent. */
  public String header(String name) {
    byte[] value = headerBytes(name);
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  /** The last value of a header as it came, or null when absent or without a value. */
  public byte[] headerBytes(String name) {
    Header h = record.headers().lastHeader(name);
    return h == null ? null : h.value();
  }

  /** A header holding a decimal integer, or null when absent or not a number. */
  public Integer intHeader(String name) {
    String value = header(name);
    if (value == null) {
      return null;
    }
    try {
      return Integer.valueOf(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
