package dev.gapstream.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.RejectReason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

/** Dead letters as built, before they are sent (no producer needed). */
class PredictionPublisherTest {

  private static final byte[] KEY = "camera-7".getBytes(StandardCharsets.UTF_8);

  @Test
  void aHeaderWithoutAValueStaysWithoutOne() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[] {1, 2, 3});
    record.headers().add("content-type", utf8("image/jpeg")).add("marker", null);

    ProducerRecord<byte[], byte[]> letter =
        publisher(1 << 20).deadLetterRecord(frame(record), new byte[] {1, 2, 3}, RejectReason.DECODE_ERROR, "bad", null);

    Header marker = letter.headers().lastHeader("marker");
    assertThat(marker).as("the frame's header without a value").isNotNull();
    assertThat(marker.value()).as("null, as it came, not an empty value").isNull();
    assertThat(new String(letter.headers().lastHeader("content-type").value(), StandardCharsets.UTF_8))
        .isEqualTo("image/jpeg");
    assertThat(names(letter)).containsExactly("content-type", "marker", "dlq-reason", "dlq-error", "dlq-source");
  }

  private static PredictionPublisher publisher(int maxPayloadBytes) {
    return new PredictionPublisher(null, "predictions", "frames.dlq", maxPayloadBytes, (topic, e) -> {});
  }

  private static Frame frame(ConsumerRecord<byte[], byte[]> record) {
    return new Frame(record, null, 0);
  }

  private static List<String> names(ProducerRecord<byte[], byte[]> letter) {
    List<String> names = new ArrayList<>();
    letter.headers().forEach(h -> names.add(h.key()));
    return names;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
