package dev.gapstream.config;

import static dev.gapstream.config.ConfigDef.Type.BOOLEAN;
import static dev.gapstream.config.ConfigDef.Type.BYTES;
import static dev.gapstream.config.ConfigDef.Type.INT;
import static dev.gapstream.config.ConfigDef.Type.LONG;
import static dev.gapstream.config.ConfigDef.Type.STRING;
import static dev.gapstream.config.ConfigDef.oneOf;
import static dev.gapstream.config.ConfigDef.range;

import dev.gapstream.config.ConfigDef.Validator;
import java.util.List;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.utils.Utils;

/**
 * Every configuration key gapstream reads: one constant per key and the {@link #DEF} table with its
 * type, default, allowed values and doc. Key names are a contract (manifests and users rely on
 * them): extend, never rename. Environment variables map as {@code GAPSTREAM_BATCH_MAX_SIZE} to
 * {@code batch.max.size}.
 */
public final class ConfigKeys {
  /** Keys under this prefix are passed to the Kafka consumer verbatim, without the prefix. */
  public static final String KAFKA_CONSUMER_PREFIX = "kafka.consumer.";

  /** Keys under this prefix are passed to the Kafka producer verbatim, without the prefix. */
  public static final String KAFKA_PRODUCER_PREFIX = "kafka.producer.";

  public static final String KAFKA_BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";
  public static final String KAFKA_GROUP_ID = "kafka.group.id";
  public static final String KAFKA_EMBEDDED_DIR = "kafka.embedded.dir";
  public static final String KAFKA_EMBEDDED_PORT = "kafka.embedded.port";
  public static final String KAFKA_EMBEDDED_PARTITIONS = "kafka.embedded.partitions";
  public static final String TOPICS_FRAMES = "topics.frames";
  public static final String TOPICS_PREDICTIONS = "topics.predictions";
  public static final String TOPICS_DLQ = "topics.dlq";
  public static final String BATCH_MAX_SIZE = "batch.max.size";
  public static final String BATCH_MAX_PIXELS = "batch.max.pixels";
  public static final String BATCH_MAX_DELAY_MS = "batch.max.delay.ms";
  public static final String BATCH_CALIBRATE = "batch.calibrate";
  public static final String BATCH_RUN_MAX_PIXELS = "batch.run.max.pixels";
  public static final String INFERENCE_MODEL_PATH = "inference.model.path";
  public static final String INFERENCE_THREADS = "inference.threads";
  public static final String INFERENCE_CONCURRENCY = "inference.concurrency";
  public static final String INFERENCE_PROVIDER = "inference.provider";
  public static final String INGEST_MAX_IN_FLIGHT = "ingest.max.in.flight";
  public static final String INGEST_MAX_IN_FLIGHT_BYTES = "ingest.max.in.flight.bytes";
  public static final String INGEST_MAX_FRAME_BYTES = "ingest.max.frame.bytes";
  public static final String INGEST_MAX_PIXELS = "ingest.max.pixels";
  public static final String INGEST_RESIZE_MAX_SIDE = "ingest.resize.max.side";
  public static final String INGEST_MAX_FRAME_AGE_MS = "ingest.max.frame.age.ms";
  public static final String INGEST_DECODE_THREADS = "ingest.decode.threads";
  public static final String INGEST_PIXEL_POOL_BYTES = "ingest.pixel.pool.bytes";
  public static final String PREDICTIONS_TOP_K = "predictions.top.k";
  public static final String CAM_ENABLED = "cam.enabled";
  public static final String CAM_HEATMAP = "cam.heatmap";
  public static final String DELIVERY_GUARANTEE = "delivery.guarantee";
  public static final String DELIVERY_TRANSACTIONAL_ID = "delivery.transactional.id";
  public static final String DELIVERY_COMMIT_INTERVAL_MS = "delivery.commit.interval.ms";
  public static final String HTTP_PORT = "http.port";
  public static final String HTTP_LIVE_ENABLED = "http.live.enabled";
  public static final String SHUTDOWN_TIMEOUT_MS = "shutdown.timeout.ms";

  /** Defaults that depend on the machine are read once, when this class loads. */
  static final int CPUS = Runtime.getRuntime().availableProcessors();

  static final int MAX_DECODE_THREADS = 256;

  /**
   * Two batches at once, each on half the cores: a batch's threads meet at the end of every
   * operator, and on cores shared with decoding and the Kafka clients one preempted thread holds
   * up the rest; two single-threaded runs on two cores measured 1.08× (ResNet-18) and 1.29× (the
   * shipped model) the pipeline throughput of one two-threaded run (BENCHMARKS.md).
   */
  static final int DEFAULT_INFERENCE_CONCURRENCY = 2;

  /** The most inference slots CUDA takes unless told: each holds a tensor buffer and a run's GPU memory. */
  static final int MAX_CUDA_INFERENCE_CONCURRENCY = 4;

  /**
   * {@code inference.concurrency} when it is not set and the provider is CUDA: half the
   * processors, at least two and at most four. A worker spends most of a batch on its own parts
   * there, filling the input tensor and turning the outputs into predictions, which the GPU does
   * not shorten: on an H200 the two default workers were on the CPU 94% of the time and in ONNX
   * Runtime's run 33% (BENCHMARKS.md, "GPU"), so more slots overlap those parts with the GPU's
   * runs. But a worker waiting on the GPU spins on its core (CUDA's default on a machine with more
   * cores than GPUs), so above the CPU default's two the slots take at most half the processors,
   * leaving the rest to decoding and Kafka.
   */
  static int cudaInferenceConcurrency(int cpus) {
    return Math.max(DEFAULT_INFERENCE_CONCURRENCY, Math.min(MAX_CUDA_INFERENCE_CONCURRENCY, cpus / 2));
  }

  /** {@code inference.threads} when it is not set: the processors shared out between the batches. */
  static int inferenceThreads(int concurrency) {
    return inferenceThreads(CPUS, concurrency);
  }

  /** As {@link #inferenceThreads(int)}, on {@code cpus} processors. */
  static int inferenceThreads(int cpus, int concurrency) {
    return Math.max(1, cpus / concurrency);
  }

  private static final Validator PORT = range(0, 65_535);
  private static final Validator NOT_BLANK =
      (key, value) -> {
        if (String.valueOf(value).isBlank()) {
          throw new ConfigException(key + ": must not be empty");
        }
      };
  /** A name Kafka takes for a topic; the client's own check, and its words. */
  private static final Validator TOPIC =
      (key, value) -> {
        NOT_BLANK.ensureValid(key, value);
        try {
          Topic.validate(String.valueOf(value));
        } catch (InvalidTopicException e) {
          throw new ConfigException(key + ": " + e.getMessage());
        }
      };

  /**
   * Brokers as the Kafka client takes them: comma-separated {@code host:port} (IPv6 in brackets),
   * or empty. Only the form is checked here; a name that does not resolve is the client's to
   * retry, as brokers may come up after the service.
   */
  private static final Validator BROKERS =
      (key, value) -> {
        String list = String.valueOf(value);
        for (String entry : list.split(",")) {
          String broker = entry.strip();
          if (broker.isEmpty()) {
            if (!list.isBlank()) {
              throw new ConfigException(key + ": \"" + list + "\" has an empty entry; expected host:port,...");
            }
            continue;
          }
          Integer port;
          try {
            port = Utils.getPort(broker);
          } catch (NumberFormatException e) {
            port = null; // more digits than an int
          }
          if (Utils.getHost(broker) == null || port == null) {
            throw new ConfigException(key + ": \"" + broker + "\" is not host:port");
          }
          if (port < 1 || port > 65_535) {
            throw new ConfigException(key + ": \"" + broker + "\" has port " + port + ", out of range [1, 65535]");
          }
        }
      };

  /** The table: type, default, validator and doc of every key above. */
  public static final ConfigDef DEF =
      new ConfigDef()
          .define(
              KAFKA_BOOTSTRAP_SERVERS,
              STRING,
              "",
              BROKERS,
              "Kafka brokers host:port,...; unset starts an embedded single-node broker (`run` warns that it does), as does empty on the command line; empty in a file or the environment fails the start")
          .define(
              KAFKA_GROUP_ID,
              STRING,
              "gapstream",
              NOT_BLANK,
              "Consumer group; replicas sharing it share the frames topic's partitions")
          .define(
              KAFKA_EMBEDDED_DIR,
              STRING,
              "",
              Validator.ANY,
              "Data directory of the embedded broker, kept across restarts and held by one process at a time; empty means a temporary one")
          .define(
              KAFKA_EMBEDDED_PORT,
              INT,
              0,
              PORT,
              "Client port of the embedded broker; 0 picks a free one")
          .define(
              KAFKA_EMBEDDED_PARTITIONS,
              INT,
              4,
              range(1, 1_000),
              "Partitions of the frames and predictions topics gapstream creates on the embedded broker (the dead-letter topic has one);"
                  + " in a kept kafka.embedded.dir, topics with fewer grow to it")
          .define(TOPICS_FRAMES, STRING, "frames", TOPIC, "Input topic of encoded frames")
          .define(
              TOPICS_PREDICTIONS,
              STRING,
              "predictions",
              TOPIC,
              "Output topic, one JSON prediction per frame")
          .define(
              TOPICS_DLQ,
              STRING,
              "frames.dlq",
              TOPIC,
              "Dead-letter topic for frames that cannot be decoded or classified")
          .define(BATCH_MAX_SIZE, INT, 16, range(1, 1_024), "Frames per inference batch at most")
          .define(
              BATCH_MAX_PIXELS,
              LONG,
              4_194_304L,
              range(1, 1L << 27),
              "Pixels (width*height summed over its frames) per inference batch at most; a larger"
                  + " frame runs alone. ONNX Runtime's working memory grows with a batch's pixels:"
                  + " this keeps batches of large frames small (default: 16 frames up to 512x512,"
                  + " 4 of 1280x720, 2 of 1920x1080)")
          .define(
              BATCH_MAX_DELAY_MS,
              LONG,
              10L,
              range(0, 10_000),
              "Milliseconds a batch waits for more frames before it runs anyway")
          .define(
              BATCH_CALIBRATE,
              BOOLEAN,
              true,
              Validator.ANY,
              "At start-up, time the model at batches of 1, 2, 4, ... up to batch.max.size (at its"
                  + " input size, else 224x224) and close batches at the size fastest once the pipeline's"
                  + " own work per batch is counted (of sizes within 3% of it, the smallest): a batch past the"
                  + " CPU's caches costs more per frame. Lowers"
                  + " batch.max.pixels to that batch's pixels, and sets batch.run.max.pixels; takes a few"
                  + " seconds")
          .define(
              BATCH_RUN_MAX_PIXELS,
              LONG,
              0L,
              range(0, 1L << 27),
              "Pixels of a batch one ONNX Runtime run takes at most: a larger batch runs in several, one"
                  + " after another on its inference slot, each on less memory (a frame larger than this"
                  + " runs alone). 0: as batch.calibrate chooses (the smallest size the model ran at least as"
                  + " fast alone as the batch), or the whole batch where it does not run")
          .define(
              INFERENCE_MODEL_PATH,
              STRING,
              "models/gapnet-shapes/model.onnx",
              NOT_BLANK,
              "ONNX model file, or a directory holding model.onnx and model.json; relative paths"
                  + " resolve against the working directory, then gapstream.home")
          .define(
              INFERENCE_THREADS,
              INT,
              inferenceThreads(DEFAULT_INFERENCE_CONCURRENCY),
              range(1, 1_024),
              "ONNX Runtime intra-op threads per batch (default: available processors ÷"
                  + " inference.concurrency, at least 1)")
          .define(
              INFERENCE_CONCURRENCY,
              INT,
              DEFAULT_INFERENCE_CONCURRENCY,
              range(1, 64),
              "Batches in inference at the same time, each on its own threads (default 2; with"
                  + " inference.provider=cuda, half the processors within 2 to 4, where a batch's own"
                  + " CPU work outweighs the GPU's run)")
          .define(
              INFERENCE_PROVIDER,
              STRING,
              InferenceProvider.CPU.id(),
              oneOf(InferenceProvider.ids()),
              "ONNX Runtime execution provider: cpu, or cuda (an NVIDIA GPU; needs the build of the"
                  + " Maven cuda profile, docs/OPERATIONS.md)")
          .define(
              INGEST_MAX_IN_FLIGHT,
              INT,
              256,
              range(1, 100_000),
              "Frames consumed and not yet committable (unfinished, or finished behind an unfinished one) before the consumer pauses")
          .define(
              INGEST_MAX_IN_FLIGHT_BYTES,
              BYTES,
              256L << 20,
              range(1, 1L << 40),
              "Encoded bytes of the unfinished frames (as Kafka delivered them, held until each is published"
                  + " or dead-lettered) before the consumer pauses, a quarter of the heap at most: "
                  + INGEST_MAX_IN_FLIGHT + " frames of several MiB would fill it. A frame is taken whenever"
                  + " none is in flight, however large")
          .define(
              INGEST_MAX_FRAME_BYTES,
              BYTES,
              8L << 20,
              range(1, 1L << 30),
              "Largest encoded frame accepted; larger ones are dead-lettered as too-large, without their bytes")
          .define(
              INGEST_MAX_PIXELS,
              LONG,
              16_777_216L,
              // DecodeLimits.MAX_PIXELS: a frame's RGB bytes, 3 a pixel, are counted in an int
              range(1, 1L << 29),
              "Largest decoded width*height accepted; larger ones are dead-lettered as too-large, read from"
                  + " the header before decoding (as is a side longer than 65535, a JPEG's limit, whatever the"
                  + " area). At most 536870912 (512 Mi: a frame's 3 bytes a pixel stay within an int)")
          .define(
              INGEST_RESIZE_MAX_SIDE,
              INT,
              -1,
              range(-1, 65_535),
              "Longest side a frame is classified at: longer frames are scaled down to it (area"
                  + " average, aspect ratio kept) before inference. -1: the model's own (maxSide in"
                  + " its model.json, the scale it was trained at: 256 for the shipped model), or"
                  + " none; 0: every frame at its own size. CAM coordinates stay fractions of the"
                  + " frame. Any-size models only (a fixed-size model's frames are resized to its"
                  + " input)")
          .define(
              INGEST_MAX_FRAME_AGE_MS,
              LONG,
              0L,
              range(0, 7L * 24 * 3600 * 1000),
              "Oldest a frame may be (now minus its record timestamp) when its turn to decode comes;"
                  + " older ones are not classified but dead-lettered as expired, without their bytes"
                  + " (still in their topic), so that a pipeline behind live cameras catches up on"
                  + " fresh frames. 0 classifies every frame, however old")
          .define(
              INGEST_DECODE_THREADS,
              INT,
              // within its range: a default out of it failed every start, on a key no one had set
              Math.min(CPUS, MAX_DECODE_THREADS),
              range(1, MAX_DECODE_THREADS),
              "Worker threads decoding frames (default: available processors, " + MAX_DECODE_THREADS + " at most)")
          .define(
              INGEST_PIXEL_POOL_BYTES,
              BYTES,
              64L << 20,
              range(0, 1L << 40),
              "Decoded pixel arrays kept for reuse by later frames of the same size (they would otherwise be"
                  + " allocated per frame and copied by every young collection while in flight), a quarter of the heap"
                  + " at most; 0 keeps none")
          .define(
              PREDICTIONS_TOP_K,
              INT,
              3,
              range(1, 1_000),
              "Classes listed per prediction, best first")
          .define(
              CAM_ENABLED,
              BOOLEAN,
              true,
              Validator.ANY,
              "Publish the class activation map's peak and box with each prediction")
          .define(
              CAM_HEATMAP,
              BOOLEAN,
              false,
              Validator.ANY,
              "Also publish the full heatmap (8-bit, base64; needs cam.enabled); makes messages larger")
          .define(
              DELIVERY_GUARANTEE,
              STRING,
              DeliveryGuarantee.AT_LEAST_ONCE.id(),
              oneOf(DeliveryGuarantee.ids()),
              "at-least-once, or exactly-once with transactions")
          .define(
              DELIVERY_TRANSACTIONAL_ID,
              STRING,
              "",
              Validator.ANY,
              "Kafka transactional.id in exactly-once mode (only there); empty means"
                  + " gapstream-<kafka.group.id>-<hostname>. Keep it stable across restarts of a"
                  + " replica and unique among replicas")
          .define(
              DELIVERY_COMMIT_INTERVAL_MS,
              LONG,
              100L,
              range(0, 60_000),
              "Least time between offset commits (exactly-once: between transaction commits); a"
                  + " crash repeats at most this much finished work. 0 commits whenever the last"
                  + " commit is done. Exactly-once: less than kafka.producer.transaction.timeout.ms")
          .define(
              HTTP_PORT,
              INT,
              8080,
              PORT,
              "Management HTTP port (/metrics, /health/*); 0 picks a free one")
          .define(
              HTTP_LIVE_ENABLED,
              BOOLEAN,
              true,
              Validator.ANY,
              "Serve the live view (recent frames with CAMs, throughput and latency) at / and"
                  + " /live on the management port")
          .define(
              SHUTDOWN_TIMEOUT_MS,
              LONG,
              30_000L,
              range(0, 600_000),
              "Milliseconds a graceful stop drains batches in; the final commit and leaving the group then get what is left, at least 5 s each");

  /**
   * {@code GAPSTREAM_*} environment variables that are not configuration keys (read by the launcher
   * or logging), so the loader does not reject them as typos.
   */
  public static final List<String> NON_CONFIG_ENV =
      List.of("GAPSTREAM_JAVA_OPTS", "GAPSTREAM_LOG_LEVEL");

  private ConfigKeys() {}
}
