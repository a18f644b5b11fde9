package dev.gapstream.publish;

import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.RejectReason;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes predictions and dead letters. A prediction keeps its frame's key (so per-camera order
 * holds within a partition) and its {@code frame-id} and {@code traceparent} headers; a dead letter
 * carries the original key, value and headers plus {@code dlq-reason}, {@code dlq-error} and {@code
 * dlq-source}. A frame too large to send again goes without its value, with {@code
 * dlq-payload-omitted} saying why; {@code dlq-source} names where it still is.
 *
 * <p>Called on the event loop; the Vert.x producer does the blocking parts of a send elsewhere.
 */
public final class PredictionPublisher {

  public static final String DLQ_REASON_HEADER = "dlq-reason";
  public static final String DLQ_ERROR_HEADER = "dlq-error";
  public static final String DLQ_SOURCE_HEADER = "dlq-source";
  public static final String DLQ_PAYLOAD_OMITTED_HEADER = "dlq-payload-omitted";

  private final KafkaProducer<byte[], byte[]> producer;
  private final String predictionsTopic;
  private final String deadLetterTopic;
  private final int maxPayloadBytes;
  private final BiConsumer<String, Throwable> failures;

  /**
   * @param maxPayloadBytes the largest value a dead letter carries; a larger frame's goes without it
   *     (the producer's and the dead-letter topic's limits, less room for the headers)
   * @param failures told of every send that fails, with the record's topic (for the metrics)
   */
  public PredictionPublisher(
      KafkaProducer<byte[], byte[]> producer,
      String predictionsTopic,
      String deadLetterTopic,
      int maxPayloadBytes,
      BiConsumer<String, Throwable> failures) {
    this.producer = producer;
    this.predictionsTopic = predictionsTopic;
    this.deadLetterTopic = deadLetterTopic;
    this.maxPayloadBytes = maxPayloadBytes;
    this.failures = failures;
  }

  /** Sends a record made by {@link #prediction}; the future completes when the broker acknowledged it. */
  public Future<RecordMetadata> send(KafkaProducerRecord<byte[], byte[]> record) {
    return producer.send(record).onFailure(e -> failures.accept(record.topic(), e));
  }

  /** A frame's prediction: its key, and its {@code frame-id} and {@code traceparent} headers. */
  public KafkaProducerRecord<byte[], byte[]> prediction(Frame frame, byte[] json) {
    KafkaProducerRecord<byte[], byte[]> out =
        KafkaProducerRecord.create(predictionsTopic, frame.record().key(), json);
    List<KafkaHeader> headers = new ArrayList<>(3);
    headers.add(header(Frame.FRAME_ID_HEADER, frame.frameId()));
    String traceparent = frame.header(Frame.TRACEPARENT_HEADER);
    if (traceparent != null) {
      headers.add(header(Frame.TRACEPARENT_HEADER, traceparent));
    }
    headers.add(header(Frame.CONTENT_TYPE_HEADER, "application/json"));
    out.addHeaders(headers);
    return out;
  }

  /**
   * Sends a frame to the dead-letter topic with the reason it could not be predicted: with its value,
   * unless that is over the size given at construction.
   */
  public Future<RecordMetadata> deadLetter(Frame frame, RejectReason reason, String error) {
    byte[] value = frame.record().value();
    if (value != null && value.length > maxPayloadBytes) {
      return deadLetterWithoutValue(
          frame, reason, error, value.length + " bytes, over the " + maxPayloadBytes + " a dead letter carries");
    }
    return sendDeadLetter(deadLetterRecord(frame, value, reason, error, null));
  }

  /**
   * Sends the dead letter without the frame's value (null), and {@code why} in the {@code
   * dlq-payload-omitted} header: for a frame the producer or the dead-letter topic would refuse.
   */
  public Future<RecordMetadata> deadLetterWithoutValue(Frame frame, RejectReason reason, String error, String why) {
    return sendDeadLetter(deadLetterRecord(frame, null, reason, error, why));
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

  /** The dead letter: the frame's key, the given value, the frame's headers as they came, the dlq-* ones. */
  ProducerRecord<byte[], byte[]> deadLetterRecord(
      Frame frame, byte[] value, RejectReason reason, String error, String omitted) {
    RecordHeaders headers = new RecordHeaders();
    for (Header h : frame.record().headers()) {
      headers.add(h.key(), h.value());
    }
    headers.add(DLQ_REASON_HEADER, utf8(reason.wireName()));
    headers.add(DLQ_ERROR_HEADER, utf8(error == null ? reason.wireName() : error));
    headers.add(DLQ_SOURCE_HEADER, utf8(frame.source()));
    if (omitted != null) {
      headers.add(DLQ_PAYLOAD_OMITTED_HEADER, utf8(omitted));
    }
    return new ProducerRecord<>(deadLetterTopic, null, null, frame.record().key(), value, headers);
  }

  private static byte[] utf8(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }

  private static KafkaHeader header(String key, String value) {
    return KafkaHeader.header(key, Buffer.buffer(value.getBytes(StandardCharsets.UTF_8)));
  }
}
