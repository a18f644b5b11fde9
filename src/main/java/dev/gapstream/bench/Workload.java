package dev.gapstream.bench;

import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.EngineOptions;
import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.pipeline.ModelBatchRunner;
import dev.gapstream.pipeline.PredictionTap;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * What every stage of a benchmark shares: the effective configuration (model, batch policy, thread
 * counts), the model's spec and the encoded frames. Stages build their decoder, engine and batch
 * runner here, exactly as {@link GapstreamService} builds the pipeline's, so that they differ from
 * the pipeline only in what they leave out.
 */
public record Workload(GapstreamConfig config, ModelSpec spec, List<EncodedFrame> frames) {

  public Workload {
    frames = List.copyOf(frames);
  }

  FrameDecoder decoder() {
    return GapstreamService.decoder(config, spec);
  }

  InferenceEngine openEngine() {
    return openEngine(GapstreamService.engineOptions(config));
  }

  /** An engine with CAMs whatever {@code cam.enabled} says, for the {@link #runner} that makes them. */
  InferenceEngine openEngine(EngineOptions options) {
    return InferenceEngine.open(config.inference().modelPath(), spec, options.withCams(true));
  }

  /**
   * The pipeline's batch runner (preprocess, infer, top-k, CAM, JSON), recording into {@code
   * metrics}, which nobody scrapes: the stages read its inference timer ({@link ModelTime}). With
   * CAMs whatever {@code cam.enabled} says, as the pipeline runs in stages 3 and 4 (stage 3's
   * variant without them is its own row): stages 2 and 5 skipped them where they were configured
   * off, and the ratios compared a pipeline doing more. Public for JMH's {@code
   * BatchRunnerBenchmark}, which runs the same one.
   */
  public ModelBatchRunner runner(InferenceEngine engine, GapstreamMetrics metrics) {
    return new ModelBatchRunner(
        engine,
        spec,
        new GapstreamConfig.Cam(true, config.cam().heatmap()),
        config.predictions().topK(),
        config.batch().policy(),
        metrics.pipeline(),
        PredictionTap.NONE);
  }

  /** Frame {@code i} as the consumer would have read it from partition 0 at offset {@code i}. */
  ConsumerRecord<byte[], byte[]> record(String topic, int i) {
    EncodedFrame frame = frames.get(i);
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(topic, 0, i, null, frame.data());
    record.headers().add(new RecordHeader("content-type", bytes(frame.contentType())));
    return record;
  }

  static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
