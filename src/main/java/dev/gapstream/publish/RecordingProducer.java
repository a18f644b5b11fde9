package dev.gapstream.publish;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.metrics.KafkaMetric;

/**
 * A transactional producer that keeps what its open transaction sent, so that {@link
 * ExactlyOnceDelivery} can send it again in the next one when the first is aborted for a reason
 * that has nothing to do with its outputs (the consumer group moved to a new generation while it was
 * open). What it keeps is dropped once the transaction commits, or when the next one begins.
 *
 * <p>It keeps at most {@code maxBytes} of keys, values and headers (their keys counted in
 * characters) per transaction: the pipeline gives it the producer's {@code buffer.memory}. What it
 * keeps is the records the pipeline sent, not copies, held from their acknowledgement to the
 * commit. A transaction that sends more keeps nothing, and cannot be sent again. Thread-safe, as
 * the producer is.
 */
public final class RecordingProducer implements Producer<byte[], byte[]> {

  private final Producer<byte[], byte[]> producer;
  private final long maxBytes;
  private final List<ProducerRecord<byte[], byte[]>> sent = new ArrayList<>();
  private long sentBytes;

  public RecordingProducer(Producer<byte[], byte[]> producer, long maxBytes) {
    this.producer = producer;
    this.maxBytes = maxBytes;
  }

  /** The most bytes of records it keeps for one transaction. */
  long maxBytes() {
    return maxBytes;
  }

  /** Whether it kept all that the open transaction, or the last one aborted, sent. */
  synchronized boolean keptAll() {
    return sentBytes <= maxBytes;
  }

  /**
   * What the open transaction, or the last one aborted, sent, in the order it was sent; nothing
   * where that was more than it keeps.
   */
  synchronized List<ProducerRecord<byte[], byte[]>> sentInTransaction() {
    return List.copyOf(sent);
  }

  /** Drops what the last transaction sent: it will not be sent again. */
  synchronized void forgetSent() {
    sent.clear();
    sentBytes = 0;
  }

  @Override
  public void beginTransaction() {
    forgetSent();
    producer.beginTransaction();
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
    return send(record, null);
  }

  @Override
  public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
    synchronized (this) {
      sentBytes += bytes(record);
      if (sentBytes <= maxBytes) {
        sent.add(record); // in send order: a partition's outputs keep their order when sent again
      } else {
        sent.clear(); // a part of a transaction cannot be sent again: keep none of it
      }
    }
    return producer.send(record, callback);
  }

  private static long bytes(ProducerRecord<byte[], byte[]> record) {
    long bytes = (record.key() == null ? 0 : record.key().length) + (record.value() == null ? 0 : record.value().length);
    for (Header header : record.headers()) {
      bytes += header.key().length() + (header.value() == null ? 0 : header.value().length);
    }
    return bytes;
  }

  @Override
  public void initTransactions() {
    producer.initTransactions();
  }

  @Override
  public void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
    producer.sendOffsetsToTransaction(offsets, group);
  }

  @Override
  public void commitTransaction() {
    producer.commitTransaction();
    forgetSent();
  }

  @Override
  public void abortTransaction() {
    producer.abortTransaction();
  }

  @Override
  public void registerMetricForSubscription(KafkaMetric metric) {
    producer.registerMetricForSubscription(metric);
  }

  @Override
  public void unregisterMetricFromSubscription(KafkaMetric metric) {
    producer.unregisterMetricFromSubscription(metric);
  }

  @Override
  public void flush() {
    producer.flush();
  }

  @Override
  public List<PartitionInfo> partitionsFor(String topic) {
    return producer.partitionsFor(topic);
  }

  @Override
  public Map<MetricName, ? extends Metric> metrics() {
    return producer.metrics();
  }

  @Override
  public Uuid clientInstanceId(Duration timeout) {
    return producer.clientInstanceId(timeout);
  }

  @Override
  public void close() {
    producer.close();
  }

  @Override
  public void close(Duration timeout) {
    producer.close(timeout);
  }
}
