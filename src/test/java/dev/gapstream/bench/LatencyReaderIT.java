package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.GapstreamException;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.publish.Prediction;
import dev.gapstream.publish.PredictionJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reader behind {@code bench}'s latency runs and {@code load}, on a real broker: it counts its
 * own run's predictions once each, measures them from their frame's scheduled send to their
 * publication, and passes over every other record on the topic.
 */
class LatencyReaderIT {

  /** When every frame here was due: a minute ago (a broker refuses timestamps far in the future). */
  private static final long SCHEDULED_MS = System.currentTimeMillis() - 60_000;
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafka.builder().start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void countsItsOwnRunsPredictionsOnceAndPassesOverTheRest() throws Exception {
    kafka.createTopic("shared-predictions", 2);
    try (LatencyReader reader = new LatencyReader(kafka.bootstrapServers(), "shared-predictions", "load-run1-", 2);
        KafkaProducer<byte[], byte[]> producer = producer()) {
      // Frame i published 10 × (i + 1) ms after it was due: 10 .. 100 ms.
      for (int i = 0; i < 10; i++) {
        producer.send(prediction("shared-predictions", "load-run1-" + i, 10L * (i + 1)));
      }
      producer.send(prediction("shared-predictions", "load-run1-5", 900)); // a redelivery
      producer.send(prediction("shared-predictions", "camera-7-33", 900)); // a camera's
      producer.send(prediction("shared-predictions", "load-run2-44", 900)); // another run's
      producer.send(prediction("shared-predictions", "load-run1-x", 900)); // not a number
      producer.send(prediction("shared-predictions", null, 900)); // no frame-id at all
      producer.flush();

      reader.readUntil(Integer.MAX_VALUE, Duration.ofSeconds(5)); // reads all there is

      assertThat(reader.received()).isEqualTo(10);
      // Frames 0 and 1 are the warm-up: counted as received, not measured.
      assertThat(reader.histogram().getTotalCount()).isEqualTo(8);
      assertThat(reader.histogram().getMinValue()).isEqualTo(30);
      assertThat(reader.histogram().getMaxValue()).isEqualTo(100);
      assertThat(reader.clockSkewMs()).isZero();
    }
  }

  @Test
  void aPredictionStampedBeforeItsFrameWasDueShowsTheClocksDisagree() throws Exception {
    kafka.createTopic("skewed-predictions", 1);
    try (LatencyReader reader = new LatencyReader(kafka.bootstrapServers(), "skewed-predictions", "load-run3-", 0);
        KafkaProducer<byte[], byte[]> producer = producer()) {
      producer.send(prediction("skewed-predictions", "load-run3-0", 12));
      producer.send(prediction("skewed-predictions", "load-run3-1", -40));
      producer.flush();

      reader.readUntil(2, Duration.ofSeconds(30));

      assertThat(reader.received()).isEqualTo(2);
      assertThat(reader.clockSkewMs()).isEqualTo(40);
      assertThat(reader.histogram().getMinValue()).as("clamped at 0").isZero();
    }
  }

  /**
   * {@code load}'s reader waits for as long as sending takes, then the timeout from when the sender
   * says how many went: a send that fell behind its schedule does not eat into the wait, and a
   * prediction that never comes ends the wait at the timeout.
   */
  @Test
  void waitsTheTimeoutFromWhenTheSenderSaysHowManyWent() throws Exception {
    kafka.createTopic("late-predictions", 1);
    try (LatencyReader reader = new LatencyReader(kafka.bootstrapServers(), "late-predictions", "load-run4-", 0);
        KafkaProducer<byte[], byte[]> producer = producer()) {
      Thread reading = new Thread(() -> reader.readUntil(3), "latency-reader");
      reading.start();
      producer.send(prediction("late-predictions", "load-run4-0", 5)).get();
      reading.join(1_500);
      assertThat(reading.isAlive()).as("no deadline before the sender is done").isTrue();

      reader.expect(2, Duration.ofMinutes(1)); // two went: the third frame was never sent
      producer.send(prediction("late-predictions", "load-run4-1", 5)).get();
      reading.join(30_000);
      assertThat(reading.isAlive()).as("done once both are in").isFalse();
      assertThat(reader.received()).isEqualTo(2);
    }
    try (LatencyReader reader = new LatencyReader(kafka.bootstrapServers(), "late-predictions", "load-run5-", 0)) {
      Thread reading = new Thread(() -> reader.readUntil(1), "latency-reader");
      reading.start();
      reader.expect(1, Duration.ofMillis(300)); // its one prediction never comes
      reading.join(30_000);
      assertThat(reading.isAlive()).as("given up at the timeout").isFalse();
      assertThat(reader.received()).isZero();
    }
  }

  @Test
  void aTopicThatDoesNotExistIsNamedAndNotCreated() throws Exception {
    assertThatThrownBy(() -> new LatencyReader(kafka.bootstrapServers(), "typo-predictions", "load-", 0))
        .isInstanceOf(GapstreamException.class)
        .hasMessageContaining("typo-predictions has no partitions");
    try (Admin admin = kafka.admin()) {
      assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain("typo-predictions");
    }
  }

  /** A prediction of frame {@code frameId}, published {@code lateMs} after the frame was due. */
  private static ProducerRecord<byte[], byte[]> prediction(String topic, String frameId, long lateMs) {
    Prediction p =
        new Prediction(
            frameId == null ? "frames-0-0" : frameId,
            new Prediction.Source("frames", 0, 0, SCHEDULED_MS),
            new Prediction.Model("m", "1"),
            List.of(new Prediction.Score("circle", 0, 0.9)),
            null,
            1,
            new Prediction.Latency(1.0, 2.0, 3.0));
    var record =
        new ProducerRecord<byte[], byte[]>(topic, null, SCHEDULED_MS + lateMs, null, PredictionJson.toBytes(p));
    if (frameId != null) {
      record.headers().add("frame-id", frameId.getBytes(StandardCharsets.UTF_8));
    }
    return record;
  }

  private static KafkaProducer<byte[], byte[]> producer() {
    Properties p = new Properties();
    p.putAll(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName(),
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName()));
    return new KafkaProducer<>(p);
  }
}
