package dev.gapstream.pipeline;

import java.util.Map;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Whether a Kafka client is connected to the cluster now, read from its own {@code
 * connection-count} metric (0 while every broker it talks to is unreachable). Reading metrics takes
 * no client lock, so any thread may call it; it does no I/O.
 */
final class ConnectionProbe {

  private static final String CONNECTION_COUNT = "connection-count";

  private ConnectionProbe() {}

  /** True when the client's {@code <group>}{@code connection-count} is above zero. */
  static boolean connected(Map<MetricName, ? extends Metric> metrics, String group) {
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      if (e.getKey().name().equals(CONNECTION_COUNT) && e.getKey().group().equals(group)
          && e.getValue().metricValue() instanceof Number n) {
        return n.doubleValue() > 0;
      }
    }
    return false;
  }
}
