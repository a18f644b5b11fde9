package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.publish.Prediction;
import dev.gapstream.publish.PredictionJson;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrame;
import dev.gapstream.synth.SyntheticFrames;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.TestPipelines;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * 720p and 1080p camera frames through the pipeline as configured by default: scaled to the
 * shipped model's {@code maxSide} (256) before inference, predicted right, with CAMs that point
 * into the original frame. Both resolutions scale to 256×144, so their class maps have one size.
 */
@ExtendWith(BlockedThreadGuard.class)
class CameraFramesIT {

  private static final int FRAMES = 48;
  private GapstreamService service;

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
  }

  @Test
  void cameraFramesArePredictedAtTheModelsScaleWithCamsInTheOriginalFrame() throws Exception {
    service = TestPipelines.start(Map.of("cam.heatmap", "true"));
    SyntheticFrames source =
        new SyntheticFrames(31, List.of(new FrameSize(1280, 720), new FrameSize(1920, 1080)));
    Map<String, SyntheticFrame> sent = new HashMap<>();
    try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(service.bootstrapServers(), Map.of())) {
      for (int i = 0; i < FRAMES; i++) {
        SyntheticFrame frame = source.next();
        String id = "camera-frame-" + i;
        sent.put(id, frame);
        ProducerRecord<byte[], byte[]> record =
            new ProducerRecord<>("frames", bytes("camera-" + (i % 4)), frame.encode("jpeg"));
        record.headers().add("frame-id", bytes(id));
        producer.send(record);
      }
      producer.flush();
    }

    List<Prediction> predictions = readPredictions(FRAMES, Duration.ofMinutes(2));
    assertThat(predictions).hasSize(FRAMES);
    int correct = 0;
    int peakInBox = 0;
    for (Prediction p : predictions) {
      SyntheticFrame frame = sent.get(p.frameId());
      assertThat(frame).as(p.frameId()).isNotNull();
      // The shipped net's class maps are 1/8 of its input: 32x18 for a 256x144 input, where a
      // 1280x720 frame at its own size would give 160x90.
      assertThat(p.cam().heatmap().width()).as("class map width of " + p.frameId()).isEqualTo(32);
      assertThat(p.cam().heatmap().height()).as("class map height of " + p.frameId()).isEqualTo(18);
      // 256x144 is a multiple of the stride: the cells tile the frame.
      assertThat(p.cam().heatmap().cellWidth()).isEqualTo(0.03125);
      assertThat(p.cam().heatmap().cellHeight()).isEqualTo(0.055556);
      assertThat(p.cam().heatmap().cellCentre()).as("the shipped model's camCellCentre").isEqualTo(0.0625);
      if (p.top().get(0).index() == frame.label()) {
        correct++;
        if (frame.box().contains(p.cam().peak().x() * frame.width(), p.cam().peak().y() * frame.height())) {
          peakInBox++;
        }
      }
    }
    assertThat(correct).as("correct top-1 of %d", FRAMES).isGreaterThanOrEqualTo(FRAMES - 2);
    assertThat(peakInBox).as("CAM peaks inside the object, of %d correct", correct).isGreaterThanOrEqualTo(correct * 9 / 10);
  }

  private List<Prediction> readPredictions(int count, Duration timeout) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, service.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "camera-frames-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    List<Prediction> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of("predictions", "frames.dlq"));
      while (out.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          assertThat(r.topic()).as("dead letter: " + Outputs.header(r, "dlq-error")).isEqualTo("predictions");
          out.add(PredictionJson.fromBytes(r.value()));
        }
      }
    }
    return out;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
