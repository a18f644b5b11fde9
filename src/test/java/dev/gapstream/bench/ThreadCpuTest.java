package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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
  void aBusyThreadsCpuTimeIsCountedUnderItsName() throws InterruptedException {
    ThreadCpu before = ThreadCpu.now();
    long start = System.nanoTime();
    Thread burner = new Thread(ThreadCpuTest::spinForHalfASecond, "cpu-burner-7");
    burner.start();
    burner.join();
    BenchReport.Cpu cpu = ThreadCpu.now().since(before, (System.nanoTime() - start) / 1e9);

    // The thread ended before the second sample: its time is in the process total but no longer
    // under its name.
    assertThat(cpu.seconds()).containsKey("(ended threads)");
    assertThat(cpu.seconds().get("(ended threads)")).isGreaterThan(0.2);
    assertThat(cpu.coresBusy()).isGreaterThan(0.3);
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
