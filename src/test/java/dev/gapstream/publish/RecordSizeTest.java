package dev.gapstream.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.AbstractRecords;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;

class RecordSizeTest {

  /**
   * Never below the size the producer itself checks against {@code max.request.size} (Kafka's own
   * upper bound), and within a few bytes of it, for keys, values and headers of many sizes.
   */
  @Test
  void coversWhatTheProducerCountsAndLittleMore() {
    Random random = new Random(7);
    int[] sizes = {0, 1, 63, 64, 127, 128, 16_383, 16_384, 100_000, 2_097_152};
    for (int keySize : new int[] {-1, 0, 6, 200}) {
      for (int valueSize : sizes) {
        for (int headerCount = 0; headerCount <= 3; headerCount++) {
          byte[] key = keySize < 0 ? null : bytes(random, keySize);
          byte[] value = bytes(random, valueSize);
          KafkaProducerRecord<byte[], byte[]> record = KafkaProducerRecord.create("predictions", key, value);
          List<Header> kafkaHeaders = new ArrayList<>();
          for (int h = 0; h < headerCount; h++) {
            String name = "header-é-" + h;
            byte[] headerValue = bytes(random, sizes[(h * 3 + valueSize) % 6]);
            record.addHeader(KafkaHeader.header(name, Buffer.buffer(headerValue)));
            kafkaHeaders.add(new RecordHeader(name, headerValue));
          }

          long ours = RecordSize.upperBound(record);
          int kafkas = AbstractRecords.estimateSizeInBytesUpperBound(
              RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE, key, value, kafkaHeaders.toArray(Header[]::new));
          assertThat(ours)
              .as("key %d, value %d, %d headers", keySize, valueSize, headerCount)
              .isGreaterThanOrEqualTo(kafkas)
              .isLessThanOrEqualTo(kafkas + 40L + 10L * headerCount);
        }
      }
    }
  }

  @Test
  void countsHeaderNamesInUtf8() {
    KafkaProducerRecord<byte[], byte[]> ascii = KafkaProducerRecord.create("t", null, new byte[0]);
    ascii.addHeader(KafkaHeader.header("ee", Buffer.buffer("v".getBytes(StandardCharsets.UTF_8))));
    KafkaProducerRecord<byte[], byte[]> accented = KafkaProducerRecord.create("t", null, new byte[0]);
    accented.addHeader(KafkaHeader.header("éé", Buffer.buffer("v".getBytes(StandardCharsets.UTF_8))));
    assertThat(RecordSize.upperBound(accented) - RecordSize.upperBound(ascii)).isEqualTo(2);
  }

  /** Kafka's own record (a dead letter) counts the same, a header without a value as none. */
  @Test
  void countsKafkasRecordTheSameAndAHeaderWithoutAValue() {
    byte[] key = {1, 2};
    byte[] value = new byte[1_000];
    KafkaProducerRecord<byte[], byte[]> vertx = KafkaProducerRecord.create("t", key, value);
    vertx.addHeader(KafkaHeader.header("a", Buffer.buffer(new byte[300])));
    ProducerRecord<byte[], byte[]> kafka = new ProducerRecord<>("t", key, value);
    kafka.headers().add("a", new byte[300]);
    assertThat(RecordSize.upperBound(kafka)).isEqualTo(RecordSize.upperBound(vertx));

    kafka.headers().add("b", null);
    Header[] headers = kafka.headers().toArray();
    int kafkas = AbstractRecords.estimateSizeInBytesUpperBound(
        RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE, key, value, headers);
    assertThat(RecordSize.upperBound(kafka)).isGreaterThanOrEqualTo(kafkas).isLessThanOrEqualTo(kafkas + 60L);
  }

  private static byte[] bytes(Random random, int size) {
    byte[] b = new byte[size];
    random.nextBytes(b);
    return b;
  }
}
