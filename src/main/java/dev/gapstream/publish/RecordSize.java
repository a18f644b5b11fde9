package dev.gapstream.publish;

import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The most bytes a record can take in a batch of its own, as the producer's {@code
 * max.request.size} and a topic's {@code max.message.bytes} count them (uncompressed): the batch
 * header, the record's fields at their longest variable-length encodings, its key, value and headers.
 */
public final class RecordSize {

  /** A record batch's header in Kafka's current format (magic 2). */
  private static final int BATCH_HEADER = 61;
  /** Length, attributes, timestamp and offset deltas, key and value lengths, header count. */
  private static final int RECORD_FIELDS = 5 + 1 + 10 + 5 + 5 + 5 + 5;
  /** A header's key and value lengths. */
  private static final int HEADER_FIELDS = 5 + 5;

  private RecordSize() {}

  public static long upperBound(KafkaProducerRecord<byte[], byte[]> record) {
    long bytes = BATCH_HEADER + RECORD_FIELDS + length(record.key()) + length(record.value());
    for (KafkaHeader header : record.headers()) {
      bytes += header(header.key(), header.value().length());
    }
    return bytes;
  }

  /** The same for Kafka's own record (a dead letter), whose headers may have no value. */
  public static long upperBound(ProducerRecord<byte[], byte[]> record) {
    return BATCH_HEADER + RECORD_FIELDS + length(record.key()) + length(record.value()) + headers(record.headers());
  }

  /** What {@code headers} add to a record. */
  public static long headers(Iterable<Header> headers) {
    long bytes = 0;
    for (Header header : headers) {
      bytes += header(header.key(), length(header.value()));
    }
    return bytes;
  }

  private static long header(String key, int valueBytes) {
    return HEADER_FIELDS + key.getBytes(StandardCharsets.UTF_8).length + valueBytes;
  }

  private static int length(byte[] bytes) {
    return bytes == null ? 0 : bytes.length;
  }
}
