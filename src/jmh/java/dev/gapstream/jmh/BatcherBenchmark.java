package dev.gapstream.jmh;

import dev.gapstream.batch.Batch;
import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.batch.Batcher;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The batcher's cost per item on the event loop: items of two shapes added and taken in batches
 * of 16, as a busy pipeline does (the clock is a counter, so no system call is measured).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BatcherBenchmark {

  private static final int ITEMS = 1024;
  private static final String[] SHAPES = {"224x224", "640x480"};

  private Batcher<String, Integer> batcher;
  private long clock;

  @Setup
  public void setUp() {
    batcher = new Batcher<>(BatchPolicy.of(16, java.time.Duration.ofMillis(10)), () -> clock++);
  }

  @Benchmark
  @OperationsPerInvocation(ITEMS)
  public void addAndTake(Blackhole hole) {
    for (int i = 0; i < ITEMS; i++) {
      batcher.add(SHAPES[i & 1], i);
      Batch<String, Integer> b = batcher.takeReady();
      if (b != null) {
        hole.consume(b);
      }
    }
    for (Batch<String, Integer> b : batcher.drain()) {
      hole.consume(b);
    }
  }
}
