package dev.gapstream.publish;

import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.RejectReason;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes predictions and dead letters. A prediction keeps its frame's key (so per-camera order
 * holds within a partition) and its {@code frame-id} and {@code traceparent} headers; a dead letter
 * carries the original key, value and headers plus {@code dlq-reason}, {@code dlq-error} and {@code
 * dlq-source}. A frame too large to send again goes without its value, with {@code
 * dlq-payload-omitted} saying why; {@code dlq-source} names where it still is.
 *
 * <p>A dead letter is measured whole against what the dead-letter topic takes: one over it would be
 * refused whatever the retries (in exactly-once mode dooming the transaction, and every restart
 * meeting the frame again). So where the frame's key, value and headers do not fit, it goes without
 * the value; where they still do not, without the frame's headers too ({@code dlq-headers-omitted});
 * and, with a key as large as the limit, without that as well. {@code dlq-error} is cut to {@link
 * #MAX_ERROR_BYTES}, so that the {@code dlq-*} headers always fit.
 *
 * <p>Called on the event loop; the Vert.x producer does the blocking parts of a send elsewhere.
 */
public final class PredictionPublisher {

  public static final String DLQ_REASON_HEADER = "dlq-reason";
  public static final String DLQ_ERROR_HEADER = "dlq-error";
  public static final String DLQ_SOURCE_HEADER = "dlq-source";
  public static final String DLQ_PAYLOAD_OMITTED_HEADER = "dlq-payload-omitted";
  public static final String DLQ_HEADERS_OMITTED_HEADER = "dlq-headers-omitted";
  /** The most UTF-8 bytes of {@code dlq-error}: a longer message ends in an ellipsis there. */
  public static final int MAX_ERROR_BYTES = 1024;

  private static final String ELLIPSIS = "\u2026";

  private final KafkaProducer<byte[], byte[]> producer;
  private final String predictionsTopic;
  private final String deadLetterTopic;
  private final int maxPayloadBytes;
  private final long maxDeadLetterBytes;
  private final String deadLetterLimit;
  private final BiConsumer<String, Throwable> failures;

  /**
   * @param maxPayloadBytes the largest value a dead letter carries; a larger frame's goes without it
   *     (the producer's and the dead-letter topic's limits, less room for the headers)
   * @param maxDeadLetterBytes the most a dead letter may take, {@linkplain RecordSize#upperBound
   *     counted whole}: the producer's {@code max.request.size}, or the dead-letter topic's {@code
   *     max.message.bytes} where known and lower
   * @param deadLetterLimit where that limit comes from, for the {@code dlq-*-omitted} headers
   * @param failures told of every send that fails, with the record's topic (for the metrics)
   */
  public PredictionPublisher(
      KafkaProducer<byte[], byte[]> producer,
      String predictionsTopic,
      String deadLetterTopic,
      int maxPayloadBytes,
      long maxDeadLetterBytes,
      String deadLetterLimit,
      BiConsumer<String, Throwable> failures) {
    this.producer = producer;
    this.predictionsTopic = predictionsTopic;
    this.deadLetterTopic = deadLetterTopic;
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxDeadLetterBytes = maxDeadLetterBytes;
    this.deadLetterLimit = deadLetterLimit;
    this.failures = failures;
  }

  /** Sends a record made by {@link #prediction}; the future completes when the broker acknowledged it. */
  public Future<RecordMetadata> send(KafkaProducerRecord<byte[], byte[]> record) {
    return producer.send(record).onFailure(e -> failures.accept(record.topic(), e));
  }

  /**
   * A frame's prediction: its key, and its {@code frame-id} and {@code traceparent} headers as they
   * came, byte for byte (an id need not be UTF-8); {@code topic-partition-offset} where it had no id,
   * or an empty one.
   */
  public KafkaProducerRecord<byte[], byte[]> prediction(Frame frame, byte[] json) {
    KafkaProducerRecord<byte[], byte[]> out =
        KafkaProducerRecord.create(predictionsTopic, frame.record().key(), json);
    List<KafkaHeader> headers = new ArrayList<>(3);
    byte[] frameId = frame.headerBytes(Frame.FRAME_ID_HEADER);
    headers.add(frameId != null && frameId.length > 0
        ? KafkaHeader.header(Frame.FRAME_ID_HEADER, Buffer.buffer(frameId))
        : header(Frame.FRAME_ID_HEADER, frame.frameId()));
    byte[] traceparent = frame.headerBytes(Frame.TRACEPARENT_HEADER);
    if (traceparent != null) {
      headers.add(KafkaHeader.header(Frame.TRACEPARENT_HEADER, Buffer.buffer(traceparent)));
    }
    headers.add(header(Frame.CONTENT_TYPE_HEADER, "application/json"));
    out.addHeaders(headers);
    return out;
  }

  /**
   * Sends a frame to the dead-letter topic with the reason it could not be predicted: with its value,
   * unless that is over the size given at construction or the dead letter would be over its limit.
   */
  public Future<RecordMetadata> deadLetter(Frame frame, RejectReason reason, String error) {
    return sendDeadLetter(deadLetterRecord(frame, reason, error, null, null));
  }

  /**
   * Sends the dead letter without the frame's value (null), and {@code why} in the {@code
   * dlq-payload-omitted} header: for a frame the producer or the dead-letter topic would refuse.
   */
  public Future<RecordMetadata> deadLetterWithoutValue(Frame frame, RejectReason reason, String error, String why) {
    return sendDeadLetter(deadLetterRecord(frame, reason, error, why, null));
  }

  /**
   * Sends the dead letter without the frame's value and headers, {@code why} in {@code
   * dlq-payload-omitted} and {@code dlq-headers-omitted}: for one the dead-letter topic refused as
   * too large even without the value (its limit, in at-least-once mode, is known only from that).
   */
  public Future<RecordMetadata> deadLetterWithoutFrame(Frame frame, RejectReason reason, String error, String why) {
    return sendDeadLetter(deadLetterRecord(frame, reason, error, why, why));
  }

  /**
   * Sends a dead letter as Kafka's own record, past the Vert.x one: that turns each header's value
   * into bytes and cannot carry a header without one, which the frame's may have.
   */
  private Future<RecordMetadata> sendDeadLetter(ProducerRecord<byte[], byte[]> record) {
    return producer.asStream()
        .send(record)
        .map(m -> new RecordMetadata(m.offset(), m.partition(), m.timestamp(), m.topic()))
        .onFailure(e -> failures.accept(record.topic(), e));
  }

  /**
   * The dead letter: the frame's key, value and headers and the {@code dlq-*} ones, less what the
   * limit given at construction leaves no room for (see the class comment).
   *
   * @param valueOmitted why the value goes without, or null to send it where it fits
   * @param headersOmitted why the frame's headers go without, or null to send them where they fit
   */
  ProducerRecord<byte[], byte[]> deadLetterRecord(
      Frame frame, RejectReason reason, String error, String valueOmitted, String headersOmitted) {
    byte[] value = frame.record().value();
    byte[] key = frame.record().key();
    String dlqError = truncated(error == null ? reason.wireName() : error, MAX_ERROR_BYTES);
    if (valueOmitted == null && value != null && value.length > maxPayloadBytes) {
      valueOmitted = value.length + " bytes, over the " + maxPayloadBytes + " a dead letter carries";
    }
    ProducerRecord<byte[], byte[]> letter = letter(
        frame, key, valueOmitted == null ? value : null, headersOmitted == null, reason, dlqError, valueOmitted,
        headersOmitted);
    long bytes = RecordSize.upperBound(letter);
    if (bytes > maxDeadLetterBytes && letter.value() != null) {
      valueOmitted = value.length + " bytes: with them the dead letter would take up to " + bytes + " bytes, "
          + overLimit();
      letter = letter(frame, key, null, headersOmitted == null, reason, dlqError, valueOmitted, headersOmitted);
      bytes = RecordSize.upperBound(letter);
    }
    if (bytes > maxDeadLetterBytes && headersOmitted == null) {
      Headers original = frame.record().headers();
      headersOmitted = original.toArray().length + " headers of " + RecordSize.headers(original)
          + " bytes: with them the dead letter would take up to " + bytes + " bytes, " + overLimit();
      letter = letter(frame, key, null, false, reason, dlqError, valueOmitted, headersOmitted);
      bytes = RecordSize.upperBound(letter);
    }
    if (bytes > maxDeadLetterBytes && key != null) {
      headersOmitted += "; and the key, of " + key.length + " bytes: with it the dead letter would take up to "
          + bytes + " bytes";
      letter = letter(frame, null, null, false, reason, dlqError, valueOmitted, headersOmitted);
    }
    return letter;
  }

  private String overLimit() {
    return "over the " + maxDeadLetterBytes + " that " + deadLetterLimit + " allows";
  }

  private ProducerRecord<byte[], byte[]> letter(
      Frame frame,
      byte[] key,
      byte[] value,
      boolean withHeaders,
      RejectReason reason,
      String error,
      String valueOmitted,
      String headersOmitted) {
    RecordHeaders headers = new RecordHeaders();
    if (withHeaders) {
      for (Header h : frame.record().headers()) {
        headers.add(h.key(), h.value());
      }
    }
    headers.add(DLQ_REASON_HEADER, utf8(reason.wireName()));
    headers.add(DLQ_ERROR_HEADER, utf8(error));
    headers.add(DLQ_SOURCE_HEADER, utf8(frame.source()));
    if (valueOmitted != null) {
      headers.add(DLQ_PAYLOAD_OMITTED_HEADER, utf8(truncated(valueOmitted, MAX_ERROR_BYTES)));
    }
    if (headersOmitted != null) {
      headers.add(DLQ_HEADERS_OMITTED_HEADER, utf8(truncated(headersOmitted, MAX_ERROR_BYTES)));
    }
    return new ProducerRecord<>(deadLetterTopic, null, null, key, value, headers);
  }

  /** {@code text}, or where its UTF-8 is over {@code maxBytes} its start and an ellipsis, in that many. */
  static String truncated(String text, int maxBytes) {
    if (utf8(text).length <= maxBytes) {
      return text;
    }
    // The encoder stops before the first character that no longer fits, never inside one.
    CharBuffer in = CharBuffer.wrap(text);
    StandardCharsets.UTF_8.newEncoder().encode(in, ByteBuffer.allocate(maxBytes - utf8(ELLIPSIS).length), true);
    return text.substring(0, in.position()) + ELLIPSIS;
  }

  private static byte[] utf8(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }

  private static KafkaHeader header(String key, String value) {
    return KafkaHeader.header(key, Buffer.buffer(value.getBytes(StandardCharsets.UTF_8)));
  }
}
