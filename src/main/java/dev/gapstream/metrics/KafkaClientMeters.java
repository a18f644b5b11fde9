package dev.gapstream.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Micrometer's binder for a Kafka client's metrics, looking for new ones every {@link #REFRESH}.
 * The client creates some only as it goes: a partition's {@code records-lag} after its first fetch,
 * so after every assignment. Micrometer looks once a minute by default, and a replica's lag was
 * missing from {@code /metrics} (and from the lag alert and panels) for up to a minute after each
 * start or rebalance; 59 s in {@code PrometheusIT}.
 */
final class KafkaClientMeters implements AutoCloseable {

  static final Duration REFRESH = Duration.ofSeconds(5);

  private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(task -> {
    Thread thread = new Thread(task, "gapstream-kafka-metrics");
    thread.setDaemon(true);
    return thread;
  });
  private final KafkaClientMetrics binder;

  KafkaClientMeters(Consumer<?, ?> consumer, Tags tags) {
    binder = new KafkaClientMetrics(consumer, tags, refresher, REFRESH);
  }

  KafkaClientMeters(Producer<?, ?> producer, Tags tags) {
    binder = new KafkaClientMetrics(producer, tags, refresher, REFRESH);
  }

  void bindTo(MeterRegistry registry) {
    binder.bindTo(registry);
  }

  /**
   * Stops the refresh (the binder leaves a scheduler it was given running), then removes the
   * client's meters: a refresh still going after the removal would register them again, reading a
   * closed client.
   */
  @Override
  public void close() {
    refresher.shutdownNow();
    try {
      refresher.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      binder.close();
    }
  }
}
