package dev.gapstream.publish;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class RecordingProducerTest {

  private final MockProducer<byte[], byte[]> producer =
      new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());

  private static ProducerRecord<byte[], byte[]> record(String key, String value) {
    return new ProducerRecord<>("predictions", key.getBytes(UTF_8), value.getBytes(UTF_8));
  }

  private static List<String> values(List<ProducerRecord<byte[], byte[]>> records) {
    return records.stream().map(r -> new String(r.value(), UTF_8)).toList();
  }

  @Test
  void keepsATransactionsRecordsInOrderUntilItCommits() {
    producer.initTransactions();
    RecordingProducer recording = new RecordingProducer(producer, 1024);
    recording.beginTransaction();
    recording.send(record("camera-1", "a"));
    recording.send(new ProducerRecord<>("predictions", null, "b".getBytes(UTF_8))); // no key: no camera
    assertThat(values(recording.sentInTransaction())).containsExactly("a", "b");
    assertThat(recording.keptAll()).isTrue();

    recording.commitTransaction();
    assertThat(recording.sentInTransaction()).isEmpty();
  }

  @Test
  void keepsNoneOfATransactionLargerThanItsBytesUntilTheNextBegins() {
    producer.initTransactions();
    RecordingProducer recording = new RecordingProducer(producer, 20);
    recording.beginTransaction();
    ProducerRecord<byte[], byte[]> withHeader = record("camera-1", "b");
    withHeader.headers().add("frame", "x".getBytes(UTF_8));
    recording.send(record("camera-1", "a"));
    recording.send(withHeader);
    assertThat(recording.keptAll()).as("9 bytes, then 9 and a 6-byte header: over 20").isFalse();
    assertThat(recording.sentInTransaction()).isEmpty();
    assertThat(producer.uncommittedRecords()).as("sent all the same").hasSize(2);

    recording.abortTransaction();
    recording.beginTransaction();
    recording.send(record("camera-1", "c"));
    assertThat(recording.keptAll()).isTrue();
    assertThat(values(recording.sentInTransaction())).containsExactly("c");
  }
}
