package dev.gapstream.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Leaves out the second copy of a Kafka client's per-topic meters. The consumer reports a topic
 * whose name has dots twice: under its name, and, deprecated, under the name with the dots made
 * underscores. Summed, a dotted frames topic's lag came out double ({@code cameras.frames} and
 * {@code cameras_frames}), and the lag alert fired at half the backlog it names.
 *
 * <p>Installed on the registry before any meter; told the topics when the clients are bound.
 */
final class DeprecatedTopicMeters implements MeterFilter {

  private final Set<String> underscored = ConcurrentHashMap.newKeySet();

  /** The clients' topics: the copies of those with dots in their names are left out from now on. */
  void topics(Collection<String> topics) {
    for (String topic : topics) {
      if (topic.contains(".")) {
        underscored.add(topic.replace('.', '_'));
      }
    }
  }

  @Override
  public MeterFilterReply accept(Meter.Id id) {
    String topic = id.getTag("topic");
    boolean copy = topic != null && id.getName().startsWith("kafka.") && underscored.contains(topic);
    return copy ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
  }
}
