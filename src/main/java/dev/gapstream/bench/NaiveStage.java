package dev.gapstream.bench;

import dev.gapstream.GapstreamException;
import dev.gapstream.batch.Batch;
import dev.gapstream.bench.BenchReport.Throughput;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.Frame;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.OffsetTracker;
import dev.gapstream.pipeline.BatchRunner;
import dev.gapstream.pipeline.Outcome;
import dev.gapstream.pipeline.Shape;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Stage 5, the baseline a first attempt would write: one thread that polls, decodes, runs the model
 * on one frame, sends the prediction and waits for the acknowledgement, then commits that record's
 * offset synchronously. It does the same per-frame work as the pipeline (the same batch runner:
 * top-k, CAM, JSON) with the same producer guarantees (acks=all, idempotence); only the
 * concurrency and the batching are missing. Its session gets all of the pipeline's inference
 * threads, as a loop that runs one frame at a time would.
 */
final class NaiveStage {

  private final BenchKafka kafka;
  private final Workload workload;

  NaiveStage(BenchKafka kafka, Workload workload) {
    this.kafka = kafka;
    this.workload = workload;
  }

  /**
   * Runs every frame through; the rate leaves out the first {@code warmFraction} of them, as stage
   * 3's does. {@code runnerMetrics}: where {@code runner} records its inference times.
   */
  Throughput run(BatchRunner runner, MeterRegistry runnerMetrics, double warmFraction, Duration timeout) {
    BenchKafka.Topics topics = kafka.newTopics("naive");
    int total = workload.frames().size();
    int warm = Stats.warmFrames(total, warmFraction);
    kafka.preload(topics.frames(), workload.frames());
    FrameDecoder decoder = workload.decoder();
    OffsetTracker tracker = new OffsetTracker();
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, topics.frames() + "-group");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    long deadline = System.nanoTime() + timeout.toNanos();
    long first = 0;
    int done = 0;
    ThreadCpu cpu = null;
    ModelTime model = null;
    // Taken at the last frame, inside the clients' block: their close (leaving the group, joining
    // their threads) is no frame's work, and counted it lowered the naive rate.
    double seconds = 0;
    BenchReport.Cpu used = null;
    BenchReport.Model modelUsed = null;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        KafkaProducer<byte[], byte[]> producer = naiveProducer()) {
      consumer.subscribe(List.of(topics.frames()));
      while (done < total) {
        if (System.nanoTime() > deadline) {
          throw new GapstreamException("naive stage timed out after " + timeout + " at " + done + " of " + total);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
          if (done == warm) {
            first = System.nanoTime();
            cpu = ThreadCpu.now();
            model = ModelTime.of(runnerMetrics);
          }
          Frame frame = new Frame(record, tracker, System.nanoTime());
          DecodedFrame pixels =
              decoder.decode(record.value(), frame.header(Frame.CONTENT_TYPE_HEADER), null, null);
          frame.decoded(pixels, System.nanoTime());
          long now = System.nanoTime();
          Outcome outcome =
              runner.run(new Batch<>(new Shape(pixels.width(), pixels.height()), List.of(frame), now, now)).get(0);
          frame.releasePixels(); // back to the decoder's pool, as the pipeline gives them once a batch has run
          if (!outcome.isPrediction()) {
            throw new GapstreamException("naive stage: frame " + done + " was rejected: " + outcome.error());
          }
          producer.send(new ProducerRecord<>(topics.predictions(), record.key(), outcome.json())).get();
          consumer.commitSync(
              Map.of(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1)));
          done++;
        }
      }
      seconds = (System.nanoTime() - first) / 1e9;
      used = ThreadCpu.now().since(cpu, seconds);
      modelUsed = ModelTime.of(runnerMetrics).since(model, total - warm, seconds, 1);
    } catch (ExecutionException e) {
      throw new GapstreamException("naive stage: a send failed: " + e.getCause(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GapstreamException("naive stage interrupted", e);
    }
    int counted = total - warm;
    return new Throughput(counted, Stats.round(seconds), Stats.round(counted / seconds), 1.0, used, modelUsed);
  }

  private KafkaProducer<byte[], byte[]> naiveProducer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    // It waits for each send, so there is never a second record to batch with: Kafka 4's default
    // linger (5 ms) would only delay every frame's request by that much.
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    return new KafkaProducer<>(p);
  }
}
