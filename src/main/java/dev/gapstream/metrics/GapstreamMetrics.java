package dev.gapstream.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.ExecutorServiceMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Every gapstream meter name, and the Prometheus registry they live in. Names are dotted Micrometer
 * names; Prometheus scrapes them as in the README ("Metrics"), e.g. {@code gapstream.frames.received} as
 * {@code gapstream_frames_received_total}. Dashboards and alerts rely on them: extend, never
 * rename.
 *
 * <p>One instance per process. Thread safe: the registry and binders may be used from any thread;
 * {@link #close()} closes the Kafka binders and the registry.
 */
public final class GapstreamMetrics implements AutoCloseable {
  public static final String FRAMES_RECEIVED = "gapstream.frames.received";
  public static final String FRAMES_REJECTED = "gapstream.frames.rejected";
  public static final String PREDICTIONS_PUBLISHED = "gapstream.predictions.published";
  public static final String PUBLISH_FAILURES = "gapstream.publish.failures";
  public static final String TRANSACTIONS_RESENT = "gapstream.transactions.resent";
  public static final String BATCH_SIZE = "gapstream.batch.size";
  public static final String BATCH_WAIT = "gapstream.batch.wait";
  public static final String BATCH_MAX_FRAMES = "gapstream.batch.max.frames";
  public static final String BATCH_MAX_PIXELS = "gapstream.batch.max.pixels";
  public static final String BATCH_RUN_MAX_PIXELS = "gapstream.batch.run.max.pixels";
  public static final String BATCH_CALIBRATED_FRAMES = "gapstream.batch.calibrated.frames";
  public static final String BATCH_CALIBRATION_RATE = "gapstream.batch.calibration.frames.per.second";
  public static final String DECODE = "gapstream.decode";
  public static final String INFERENCE = "gapstream.inference";
  public static final String BATCH_TENSOR = "gapstream.batch.tensor";
  public static final String BATCH_RESULTS = "gapstream.batch.results";
  public static final String END_TO_END = "gapstream.end.to.end";
  public static final String FRAMES_IN_FLIGHT = "gapstream.frames.in.flight";
  public static final String CONSUMER_PAUSED = "gapstream.consumer.paused";
  public static final String READY = "gapstream.ready";
  public static final String MODEL_INFO = "gapstream.model.info";
  public static final String CAM_PEAK_X = "gapstream.cam.peak.x.percent";
  public static final String CAM_PEAK_Y = "gapstream.cam.peak.y.percent";
  public static final String CAM_HEAT_IN_BOX = "gapstream.cam.heat.in.box.percent";

  public static final String TAG_REASON = "reason";
  public static final String TAG_MODEL = "model";
  public static final String TAG_VERSION = "version";
  public static final String TAG_HEAD = "head";
  public static final String TAG_APPLICATION = "application";
  public static final String TAG_BATCH = "batch";
  public static final String TAG_TOPIC = "topic";
  public static final String TAG_ERROR = "error";

  /** Base unit of frame counts; kept in Micrometer, not appended to Prometheus names. */
  static final String UNIT_FRAMES = "frames";

  /** The names as Prometheus scrapes them (without _bucket/_count/_sum/_max series suffixes). */
  public static final Set<String> PROMETHEUS_NAMES =
      Set.of(
          "gapstream_frames_received_total",
          "gapstream_frames_rejected_total",
          "gapstream_predictions_published_total",
          "gapstream_publish_failures_total",
          "gapstream_transactions_resent_total",
          "gapstream_batch_size",
          "gapstream_batch_wait_seconds",
          "gapstream_batch_max_frames",
          "gapstream_batch_max_pixels",
          "gapstream_batch_run_max_pixels",
          "gapstream_batch_calibrated_frames",
          "gapstream_batch_calibration_frames_per_second",
          "gapstream_decode_seconds",
          "gapstream_inference_seconds",
          "gapstream_batch_tensor_seconds",
          "gapstream_batch_results_seconds",
          "gapstream_end_to_end_seconds",
          "gapstream_frames_in_flight",
          "gapstream_consumer_paused",
          "gapstream_ready",
          "gapstream_model_info",
          "gapstream_cam_peak_x_percent",
          "gapstream_cam_peak_y_percent",
          "gapstream_cam_heat_in_box_percent");

  private static final Set<String> HTTP_METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

  private final PrometheusMeterRegistry registry;
  private final PipelineMetrics pipeline;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  private GapstreamMetrics(PrometheusMeterRegistry registry, DeprecatedTopicMeters deprecatedTopics) {
    this.registry = registry;
    this.pipeline = new PipelineMetrics(registry, deprecatedTopics);
  }

  /** A registry with {@code application=gapstream} on every meter, JVM and process binders. */
  public static GapstreamMetrics create() {
    return create(Map.of());
  }

  /**
   * A registry with {@code application=gapstream} plus {@code commonTags} (e.g. a deployment or
   * zone; keep them low-cardinality) on every meter, and the JVM and process binders bound.
   */
  public static GapstreamMetrics create(Map<String, String> commonTags) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().namingConvention(new UnitlessCounts(registry.config().namingConvention()));
    List<Tag> tags = new ArrayList<>(List.of(Tag.of(TAG_APPLICATION, "gapstream")));
    commonTags.forEach((k, v) -> tags.add(Tag.of(k, v)));
    registry.config().commonTags(tags);
    DeprecatedTopicMeters deprecatedTopics = new DeprecatedTopicMeters();
    registry.config().meterFilter(deprecatedTopics);
    // Vert.x tags its HTTP meters with the request's method, whatever a client made up: a series
    // each, for good, without this.
    registry.config().meterFilter(
        MeterFilter.replaceTagValues("method", m -> HTTP_METHODS.contains(m) ? m : "OTHER"));
    GapstreamMetrics metrics = new GapstreamMetrics(registry, deprecatedTopics);
    List.<MeterBinder>of(
            new JvmMemoryMetrics(),
            new JvmThreadMetrics(),
            new ClassLoaderMetrics(),
            new ProcessorMetrics(),
            new UptimeMetrics())
        .forEach(b -> b.bindTo(registry));
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    metrics.closeables.add(gc);
    return metrics;
  }

  /** The registry to scrape and to hand to other binders (e.g. Vert.x's Micrometer metrics). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The pipeline's facade; the same instance on every call. */
  public PipelineMetrics pipeline() {
    return pipeline;
  }

  /** Prometheus text exposition of every meter; may take milliseconds, keep it off event loops. */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Binds a native Kafka consumer's metrics (fetch lag, rates); with Vert.x pass {@code
   * kafkaConsumer.unwrap()}. Close the returned handle before closing the consumer.
   */
  public synchronized Binding bindKafkaConsumer(Consumer<?, ?> consumer, String clientName) {
    return bind(new KafkaClientMeters(consumer, Tags.of("client", clientName)));
  }

  /** Binds a native Kafka producer's metrics; with Vert.x pass {@code kafkaProducer.unwrap()}. */
  public synchronized Binding bindKafkaProducer(Producer<?, ?> producer, String clientName) {
    return bind(new KafkaClientMeters(producer, Tags.of("client", clientName)));
  }

  /**
   * Wraps a worker pool so its queue, active threads and task times are metered as {@code
   * executor.*} with {@code name} as the tag. Use the returned executor instead of the argument.
   */
  public ExecutorService monitor(ExecutorService executor, String name) {
    return ExecutorServiceMetrics.monitor(registry, executor, name);
  }

  @Override
  public synchronized void close() {
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        // Closing metrics must not stop a shutdown.
      }
    }
    closeables.clear();
    registry.close();
  }

  private Binding bind(KafkaClientMeters binder) {
    binder.bindTo(registry);
    closeables.add(binder);
    return () -> {
      synchronized (this) {
        closeables.remove(binder);
      }
      binder.close();
    };
  }

  /** Undoes one binding: its meters stop updating. Idempotent; never throws. */
  @FunctionalInterface
  public interface Binding extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Prometheus naming, except that gapstream's count units (frames, predictions) are not appended:
   * the contract says {@code gapstream_batch_size}, not {@code gapstream_batch_size_frames}.
   * Seconds and bytes still are.
   */
  private static final class UnitlessCounts implements NamingConvention {
    private final NamingConvention delegate;

    UnitlessCounts(NamingConvention delegate) {
      this.delegate = delegate == null ? new PrometheusNamingConvention() : delegate;
    }

    @Override
    public String name(String name, Meter.Type type, String baseUnit) {
      boolean keepUnit = "seconds".equals(baseUnit) || "bytes".equals(baseUnit);
      String unit = name.startsWith("gapstream.") && !keepUnit ? null : baseUnit;
      return delegate.name(name, type, unit);
    }

    @Override
    public String tagKey(String key) {
      return delegate.tagKey(key);
    }

    @Override
    public String tagValue(String value) {
      return delegate.tagValue(value);
    }
  }
}
