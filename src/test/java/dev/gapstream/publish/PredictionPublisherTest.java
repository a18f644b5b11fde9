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

  private static final long LIMIT = 100_000;
  private static final byte[] KEY = "camera-7".getBytes(StandardCharsets.UTF_8);

  @Test
  void aHeaderWithoutAValueStaysWithoutOne() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[] {1, 2, 3});
    record.headers().add("content-type", utf8("image/jpeg")).add("marker", null);

    ProducerRecord<byte[], byte[]> letter =
        publisher().deadLetterRecord(frame(record), RejectReason.DECODE_ERROR, "bad", null, null);

    Header marker = letter.headers().lastHeader("marker");
    assertThat(marker).as("the frame's header without a value").isNotNull();
    assertThat(marker.value()).as("null, as it came, not an empty value").isNull();
    assertThat(new String(letter.headers().lastHeader("content-type").value(), StandardCharsets.UTF_8))
        .isEqualTo("image/jpeg");
    assertThat(names(letter)).containsExactly("content-type", "marker", "dlq-reason", "dlq-error", "dlq-source");
  }

  @Test
  void aDeadLetterThatFitsCarriesTheWholeFrame() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[30_000]);
    record.headers().add("note", new byte[30_000]);

    ProducerRecord<byte[], byte[]> letter = deadLetter(record, "bad");

    assertThat(letter.key()).isEqualTo(KEY);
    assertThat(letter.value()).hasSize(30_000);
    assertThat(names(letter)).containsExactly("note", "dlq-reason", "dlq-error", "dlq-source");
  }

  /**
   * A frame under the most a dead letter carries whose headers take it over the limit: without the
   * value, its headers kept. Before, the headers were not counted and the topic refused it.
   */
  @Test
  void aDeadLetterOverItsLimitWithTheHeadersGoesWithoutTheValue() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[30_000]);
    record.headers().add("note", new byte[70_000]);

    ProducerRecord<byte[], byte[]> letter = deadLetter(record, "bad");

    assertThat(RecordSize.upperBound(letter)).isLessThanOrEqualTo(LIMIT);
    assertThat(letter.value()).isNull();
    assertThat(letter.key()).isEqualTo(KEY);
    assertThat(letter.headers().lastHeader("note").value()).hasSize(70_000);
    assertThat(header(letter, "dlq-payload-omitted"))
        .startsWith("30000 bytes: with them the dead letter would take up to ")
        .endsWith("over the 100000 that max.message.bytes of topic 'frames.dlq' allows");
    assertThat(letter.headers().lastHeader("dlq-headers-omitted")).isNull();
  }

  /** Headers alone over the limit: the frame's go too, the dlq-* ones stay and say so. */
  @Test
  void aDeadLetterStillOverItsLimitGoesWithoutTheFramesHeaders() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[30_000]);
    record.headers().add("content-type", utf8("image/jpeg")).add("note", new byte[120_000]);

    ProducerRecord<byte[], byte[]> letter = deadLetter(record, "bad");

    assertThat(RecordSize.upperBound(letter)).isLessThanOrEqualTo(LIMIT);
    assertThat(letter.value()).isNull();
    assertThat(letter.key()).as("kept: it fits").isEqualTo(KEY);
    assertThat(names(letter))
        .containsExactly("dlq-reason", "dlq-error", "dlq-source", "dlq-payload-omitted", "dlq-headers-omitted");
    assertThat(header(letter, "dlq-error")).isEqualTo("bad");
    assertThat(header(letter, "dlq-source")).isEqualTo("frames-3-42");
    assertThat(header(letter, "dlq-headers-omitted"))
        .startsWith("2 headers of 120046 bytes: with them the dead letter would take up to ")
        .endsWith("over the 100000 that max.message.bytes of topic 'frames.dlq' allows");
  }

  /** A key over the limit by itself: nothing else would let the dead letter go. */
  @Test
  void aKeyOverTheLimitGoesToo() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, new byte[150_000], new byte[10]);
    record.headers().add("content-type", utf8("image/jpeg"));

    ProducerRecord<byte[], byte[]> letter = deadLetter(record, "bad");

    assertThat(RecordSize.upperBound(letter)).isLessThanOrEqualTo(LIMIT);
    assertThat(letter.key()).isNull();
    assertThat(letter.value()).isNull();
    assertThat(header(letter, "dlq-headers-omitted")).contains("; and the key, of 150000 bytes");
  }

  /** Refused even without the value (a topic's limit, in at-least-once mode): without the frame's headers. */
  @Test
  void withoutTheFrameLeavesOutItsValueAndHeaders() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[10]);
    record.headers().add("content-type", utf8("image/jpeg"));

    ProducerRecord<byte[], byte[]> letter =
        publisher().deadLetterRecord(frame(record), RejectReason.TOO_LARGE, "big", "refused", "refused");

    assertThat(letter.value()).isNull();
    assertThat(letter.key()).isEqualTo(KEY);
    assertThat(names(letter))
        .containsExactly("dlq-reason", "dlq-error", "dlq-source", "dlq-payload-omitted", "dlq-headers-omitted");
    assertThat(header(letter, "dlq-headers-omitted")).isEqualTo("refused");
  }

  /** A long error (a content type echoed in it) is cut to 1 KiB, ending in an ellipsis. */
  @Test
  void aLongErrorIsCutWithAnEllipsis() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[10]);
    String error = "content-type '" + "é".repeat(50_000) + "' is not supported";

    String sent = header(deadLetter(record, error), "dlq-error");

    assertThat(utf8(sent).length).isLessThanOrEqualTo(PredictionPublisher.MAX_ERROR_BYTES);
    assertThat(sent).startsWith("content-type 'éé").endsWith("é…");
    assertThat(PredictionPublisher.truncated("short", 1024)).isEqualTo("short");
    // Not a code point split: a 4-byte character that does not fit goes whole.
    assertThat(PredictionPublisher.truncated("ab\uD83D\uDE00cdef", 8)).isEqualTo("ab…");
  }

  /**
   * A prediction carries the frame's {@code frame-id} and {@code traceparent} as they came: an id
   * that is not UTF-8 (a camera's binary id) was decoded and re-encoded, its bytes replaced, and the
   * prediction no longer matched its frame.
   */
  @Test
  void aPredictionCopiesTheFramesIdsByteForByte() {
    byte[] binaryId = {(byte) 0xc3, 0x28, (byte) 0xff, 0x00, 0x41};
    byte[] traceparent = utf8("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[] {1});
    record.headers().add("frame-id", binaryId).add("traceparent", traceparent);

    var prediction = publisher().prediction(frame(record), utf8("{}"));

    assertThat(prediction.headers()).extracting(h -> h.key())
        .containsExactly("frame-id", "traceparent", "content-type");
    assertThat(prediction.headers().get(0).value().getBytes()).containsExactly(binaryId);
    assertThat(prediction.headers().get(1).value().getBytes()).containsExactly(traceparent);
    assertThat(prediction.key()).isEqualTo(KEY);
  }

  /** Without a {@code frame-id} header a prediction names its frame by where it was read. */
  @Test
  void aPredictionOfAFrameWithoutAnIdNamesWhereItWasRead() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[] {1});

    var prediction = publisher().prediction(frame(record), utf8("{}"));

    assertThat(prediction.headers()).extracting(h -> h.key()).containsExactly("frame-id", "content-type");
    assertThat(prediction.headers().get(0).value().toString()).isEqualTo("frames-3-42");
  }

  /**
   * An empty {@code frame-id} is no id: the prediction, header and JSON both, names its frame by
   * where it was read. It was published with an empty id, which matched every other empty one.
   */
  @Test
  void aPredictionOfAFrameWithAnEmptyIdNamesWhereItWasRead() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("frames", 3, 42, KEY, new byte[] {1});
    record.headers().add("frame-id", new byte[0]);

    Frame frame = frame(record);
    var prediction = publisher().prediction(frame, utf8("{}"));

    assertThat(frame.frameId()).isEqualTo("frames-3-42");
    assertThat(prediction.headers()).extracting(h -> h.key()).containsExactly("frame-id", "content-type");
    assertThat(prediction.headers().get(0).value().toString()).isEqualTo("frames-3-42");
  }

  /** A dead letter of at most 100,000 bytes, carrying frames of up to that less 64 KiB. */
  private static PredictionPublisher publisher() {
    return new PredictionPublisher(
        null, "predictions", "frames.dlq", (int) LIMIT - (64 << 10), LIMIT,
        "max.message.bytes of topic 'frames.dlq'", (topic, e) -> {});
  }

  private static ProducerRecord<byte[], byte[]> deadLetter(ConsumerRecord<byte[], byte[]> record, String error) {
    return publisher().deadLetterRecord(frame(record), RejectReason.DECODE_ERROR, error, null, null);
  }

  private static String header(ProducerRecord<byte[], byte[]> letter, String name) {
    return new String(letter.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
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
