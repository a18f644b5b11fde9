package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Which errors are a poll's: Vert.x hands the consumer stream's exception handler the errors of
 * every task it runs on the consumer, and only a poll's may make the polling thread wait and take
 * readiness down (a failed commit's is its future's, retried by the committer).
 */
class PipelineConsumerTest {

  @Test
  void theErrorAPollEndedWithIsThePollsAndNoOtherIs() {
    try (PipelineConsumer consumer = new PipelineConsumer(config(), new NoHook())) {
      Throwable notSubscribed = catchThrowable(() -> consumer.poll(Duration.ZERO));

      assertThat(notSubscribed).isInstanceOf(IllegalStateException.class).hasMessageContaining("not subscribed");
      assertThat(consumer.endedLatestPoll(notSubscribed)).isTrue();
      assertThat(consumer.endedLatestPoll(new IllegalStateException("a commit's"))).isFalse();
      assertThat(consumer.endedLatestPoll(null)).isFalse();
    }
  }

  private static Map<String, Object> config() {
    return Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9", // never reached: nothing is subscribed
        ConsumerConfig.GROUP_ID_CONFIG, "test",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
  }

  private static final class NoHook implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
  }
}
