package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's broker takes the frames its producer sends. With Kafka's default record limit
 * (1 MB) {@code bench --size 1280x720 --encoding png} stopped while pre-loading its first topic:
 * each frame is 2.2 MB.
 */
class BenchKafkaIT {

  @Test
  void takesFramesOverKafkasDefaultRecordLimit() throws Exception {
    try (BenchKafka kafka = new BenchKafka(1);
        KafkaProducer<byte[], byte[]> producer = kafka.producer()) {
      BenchKafka.Topics topics = kafka.newTopics("large");
      byte[] frame = new byte[2 << 20];

      RecordMetadata sent = producer.send(new ProducerRecord<>(topics.frames(), frame)).get(30, TimeUnit.SECONDS);

      assertThat(sent.serializedValueSize()).isEqualTo(frame.length);
    }
  }
}
