package dev.gapstream.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this process's threads, read from {@code /proc/self/task}: where a stage's CPU went,
 * by thread group. Native threads (ONNX Runtime's intra-op pool) appear under the name of the
 * thread that created them. Empty where there is no {@code /proc} (not Linux). Each sample also
 * marks the time, for the garbage collector's pauses in between ({@link GcPauses}).
 */
final class ThreadCpu {

  /** Linux reports thread times in USER_HZ ticks: 100 per second on x86 and ARM. */
  private static final double TICKS_PER_SECOND = 100.0;

  private final Map<Integer, Sample> threads;
  private final long processTicks;
  private final long uptimeMs;

  /** One thread's name and CPU time (user + system) in ticks. */
  record Sample(String name, long ticks) {}

  /** A sample taken elsewhere: threads by id, and the whole process's ticks (ended threads included). */
  ThreadCpu(Map<Integer, Sample> threads, long processTicks) {
    this(threads, processTicks, -1);
  }

  private ThreadCpu(Map<Integer, Sample> threads, long processTicks, long uptimeMs) {
    this.threads = threads;
    this.processTicks = processTicks;
    this.uptimeMs = uptimeMs;
  }

  static ThreadCpu now() {
    long uptime = GcPauses.uptimeMs();
    Map<Integer, Sample> threads = new HashMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return new ThreadCpu(threads, 0, uptime);
    }
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
      for (Path task : dir) {
        Sample s = read(task.resolve("stat"));
        if (s != null) {
          threads.put(Integer.parseInt(task.getFileName().toString()), s);
        }
      }
    } catch (IOException e) {
      return new ThreadCpu(Map.of(), 0, uptime);
    }
    Sample process = read(Path.of("/proc/self/stat"));
    return new ThreadCpu(threads, process == null ? 0 : process.ticks(), uptime);
  }

  /**
   * CPU seconds per thread group between {@code before} and this sample, {@code wallSeconds}
   * apart, largest first; threads that ended in between are under "(ended threads)".
   */
  BenchReport.Cpu since(ThreadCpu before, double wallSeconds) {
    Map<String, Long> ticks = new TreeMap<>();
    long accounted = 0;
    for (Map.Entry<Integer, Sample> e : threads.entrySet()) {
      Sample was = before.threads.get(e.getKey());
      long used = e.getValue().ticks() - (was == null ? 0 : was.ticks());
      if (used > 0) {
        ticks.merge(group(e.getValue().name()), used, Long::sum);
        accounted += used;
      }
    }
    long ended = processTicks - before.processTicks - accounted;
    if (ended > 0) {
      ticks.merge("(ended threads)", ended, Long::sum);
    }
    Map<String, Double> seconds = new LinkedHashMap<>();
    ticks.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> seconds.put(e.getKey(), Stats.round(e.getValue() / TICKS_PER_SECOND)));
    double total = ticks.values().stream().mapToLong(Long::longValue).sum() / TICKS_PER_SECOND;
    boolean known = !threads.isEmpty() && !before.threads.isEmpty();
    BenchReport.Pauses gc =
        before.uptimeMs >= 0 && uptimeMs >= 0
            ? GcPauses.between(before.uptimeMs, uptimeMs)
            : BenchReport.Pauses.NONE;
    return new BenchReport.Cpu(known ? Stats.round(total / Math.max(wallSeconds, 1e-9)) : Double.NaN, seconds, gc);
  }

  /** A thread's name without its trailing number: {@code vert.x-worker-thread-3} → {@code vert.x-worker-thread}. */
  static String group(String name) {
    return name.replaceAll("[-_ #]?\\d+$", "");
  }

  private static Sample read(Path stat) {
    try {
      String s = Files.readString(stat);
      int open = s.indexOf('(');
      int close = s.lastIndexOf(')');
      String[] f = s.substring(close + 2).split(" ");
      // after "pid (comm) ": state is field 3; utime and stime are fields 14 and 15
      return new Sample(s.substring(open + 1, close), Long.parseLong(f[11]) + Long.parseLong(f[12]));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
