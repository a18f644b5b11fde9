package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ThreadCpuTest {

  private static volatile long sink;

  @Test
  void groupsDropTheTrailingNumber() {
    assertThat(ThreadCpu.group("vert.x-worker-thread-3")).isEqualTo("vert.x-worker-thread");
    assertThat(ThreadCpu.group("pool-2-thread-14")).isEqualTo("pool-2-thread");
    assertThat(ThreadCpu.group("GC Thread#0")).isEqualTo("GC Thread");
    assertThat(ThreadCpu.group("C2 CompilerThre")).isEqualTo("C2 CompilerThre");
  }

  @Test
  void aThreadThatEndedBetweenSamplesIsCountedFromTheProcessTotal() {
    ThreadCpu before = new ThreadCpu(Map.of(
        1, new ThreadCpu.Sample("main", 10),
        2, new ThreadCpu.Sample("cpu-burner-7", 5)), 15);
    // The burner used 50 more ticks and ended; main used 2; a new worker used 8.
    ThreadCpu after = new ThreadCpu(Map.of(
        1, new ThreadCpu.Sample("main", 12),
        3, new ThreadCpu.Sample("vert.x-worker-thread-0", 8)), 75);

    BenchReport.Cpu cpu = after.since(before, 2.0);

    assertThat(cpu.seconds()).containsExactly(
        entry("(ended threads)", 0.5), entry("vert.x-worker-thread", 0.08), entry("main", 0.02));
    assertThat(cpu.coresBusy()).isEqualTo(0.3);
  }

  @Test
  void withoutSamplesTheShareOfCoresIsUnknown() {
    ThreadCpu none = new ThreadCpu(Map.of(), 0);

    assertThat(none.since(none, 1.0).coresBusy()).isNaN();
  }

  @Test
  void aLiveThreadIsNamed() throws InterruptedException {
    ThreadCpu before = ThreadCpu.now();
    long start = System.nanoTime();
    Thread burner = new Thread(() -> {
      spinForHalfASecond();
      try {
        TimeUnit.SECONDS.sleep(30);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "cpu-burner-8");
    burner.start();
    try {
      while (burner.getState() != Thread.State.TIMED_WAITING) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
      BenchReport.Cpu cpu = ThreadCpu.now().since(before, (System.nanoTime() - start) / 1e9);
      assertThat(cpu.seconds().get("cpu-burner")).isGreaterThan(0.2);
    } finally {
      burner.interrupt();
      burner.join();
    }
  }

  private static void spinForHalfASecond() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long until = mx.getCurrentThreadCpuTime() + TimeUnit.MILLISECONDS.toNanos(500);
    long x = 0;
    while (mx.getCurrentThreadCpuTime() < until) {
      x += System.nanoTime() % 7;
    }
    sink = x;
  }
}
