package dev.gapstream.testing;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * A producer interceptor ({@code kafka.producer.interceptor.classes}) that holds back the
 * producer's acknowledgements while {@link #stall()} is in force: the producer's I/O thread waits
 * in {@code onAcknowledgement}, so sends made then stay unacknowledged, as behind a broker that
 * does not answer, until {@link #release()}. One switch for every producer that loads it.
 */
public final class StalledAcks implements ProducerInterceptor<byte[], byte[]> {

  private static final Object LOCK = new Object();
  private static boolean stalled;

  public static void stall() {
    synchronized (LOCK) {
      stalled = true;
    }
  }

  public static void release() {
    synchronized (LOCK) {
      stalled = false;
      LOCK.notifyAll();
    }
  }

  @Override
  public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
    return record;
  }

  @Override
  public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
    synchronized (LOCK) {
      long until = System.currentTimeMillis() + 120_000;
      while (stalled && System.currentTimeMillis() < until) {
        try {
          LOCK.wait(1_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  @Override
  public void close() {}

  @Override
  public void configure(Map<String, ?> configs) {}
}
