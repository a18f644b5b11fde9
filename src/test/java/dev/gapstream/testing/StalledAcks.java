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
  private static int sentWhileStalled;

  /** Holds back acknowledgements from now on, and starts counting the sends they belong to. */
  public static void stall() {
    synchronized (LOCK) {
      stalled = true;
      sentWhileStalled = 0;
    }
  }

  /** How many records were sent since {@link #stall()}: their acknowledgements are held back. */
  public static int sentWhileStalled() {
    synchronized (LOCK) {
      return sentWhileStalled;
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
    synchronized (LOCK) {
      if (stalled) {
        sentWhileStalled++;
      }
    }
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
