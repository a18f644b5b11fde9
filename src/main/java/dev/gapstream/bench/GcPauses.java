package dev.gapstream.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.GcInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The garbage collector's stop-the-world pauses in this process, as the JVM reports them (one
 * notification per collection, with its end time and duration): how often, and for how long, a
 * stage's threads all stood still. A pause holds up every frame in flight, and near saturation
 * the pipeline needs several times a pause's length to catch up.
 *
 * <p>Listens from the first use on and keeps every pause (a few hundred over a bench). Collectors
 * that report concurrent cycles separately (ZGC's and Shenandoah's "Cycles" beans) count only
 * their pauses. G1 on Java 17 reports its young, mixed and full collections, not the remark and
 * cleanup pauses of its concurrent cycle (a few milliseconds each, seconds apart).
 */
final class GcPauses {

  private record Pause(long endMs, long durationMs) {}

  private static final List<Pause> PAUSES = new ArrayList<>();

  static {
    for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (bean instanceof NotificationEmitter emitter && !bean.getName().endsWith("Cycles")) {
        emitter.addNotificationListener(
            (notification, handback) -> {
              if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                GcInfo info =
                    GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData()).getGcInfo();
                synchronized (PAUSES) {
                  PAUSES.add(new Pause(info.getEndTime(), info.getDuration()));
                }
              }
            },
            null,
            null);
      }
    }
  }

  private GcPauses() {}

  /** Milliseconds since the JVM started: the clock the collector's pause times are on. */
  static long uptimeMs() {
    return ManagementFactory.getRuntimeMXBean().getUptime();
  }

  /**
   * The pauses that ended between two {@link #uptimeMs()} readings. A notification comes a moment
   * after its pause: a window read at once after its end can miss the last one.
   */
  static BenchReport.Pauses between(long fromMs, long toMs) {
    int count = 0;
    long total = 0;
    long longest = 0;
    synchronized (PAUSES) {
      for (Pause p : PAUSES) {
        if (p.endMs() > fromMs && p.endMs() <= toMs) {
          count++;
          total += p.durationMs();
          longest = Math.max(longest, p.durationMs());
        }
      }
    }
    return new BenchReport.Pauses(count, total, longest);
  }
}
