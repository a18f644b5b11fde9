package dev.gapstream.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatcherTest {

  private long now = 1_000_000_000L;
  private final Batcher<String, Integer> batcher =
      new Batcher<>(BatchPolicy.of(3, Duration.ofMillis(10)), () -> now);

  private void advanceMillis(long ms) {
    now += Duration.ofMillis(ms).toNanos();
  }

  @Test
  void aBatchIsReadyAtMaxSizeWithoutWaiting() {
    batcher.add("a", 1);
    batcher.add("a", 2);
    assertThat(batcher.takeReady()).isNull();
    batcher.add("a", 3);

    Batch<String, Integer> batch = batcher.takeReady();
    assertThat(batch.items()).containsExactly(1, 2, 3);
    assertThat(batch.key()).isEqualTo("a");
    assertThat(batch.waitNanos()).isZero();
    assertThat(batcher.size()).isZero();
  }

  @Test
  void aPartialBatchIsReadyOnceItsFirstItemWaitedTheMaxDelay() {
    batcher.add("a", 1);
    advanceMillis(6);
    batcher.add("a", 2);
    advanceMillis(3);
    assertThat(batcher.takeReady()).as("9 ms after the first item").isNull();
    assertThat(batcher.nextDeadline()).hasValue(1_000_000_000L + Duration.ofMillis(10).toNanos());

    advanceMillis(1);
    Batch<String, Integer> batch = batcher.takeReady();
    assertThat(batch.items()).containsExactly(1, 2);
    assertThat(batch.waitNanos()).isEqualTo(Duration.ofMillis(10).toNanos());
    assertThat(batcher.nextDeadline()).isEmpty();
  }

  @Test
  void shapesNeverShareABatch() {
    batcher.add("64x64", 1);
    batcher.add("128x96", 2);
    batcher.add("64x64", 3);
    batcher.add("128x96", 4);
    batcher.add("64x64", 5);

    assertThat(batcher.takeReady().items()).containsExactly(1, 3, 5);
    advanceMillis(10);
    Batch<String, Integer> other = batcher.takeReady();
    assertThat(other.key()).isEqualTo("128x96");
    assertThat(other.items()).containsExactly(2, 4);
    assertThat(batcher.takeReady()).isNull();
  }

  @Test
  void fullBatchesComeFirstThenExpiredOnesOldestFirst() {
    batcher.add("b", 1);
    advanceMillis(1);
    batcher.add("c", 2);
    batcher.add("a", 3);
    batcher.add("a", 4);
    batcher.add("a", 5);
    advanceMillis(20);

    assertThat(batcher.takeReady().key()).isEqualTo("a");
    assertThat(batcher.takeReady().key()).isEqualTo("b");
    assertThat(batcher.takeReady().key()).isEqualTo("c");
    assertThat(batcher.takeReady()).isNull();
  }

  @Test
  void aFullBatchWaitsFromItsFirstItemUntilItIsTaken() {
    batcher.add("a", 1);
    advanceMillis(2);
    batcher.add("a", 2);
    batcher.add("a", 3);
    advanceMillis(7); // full, but no inference slot was free

    assertThat(batcher.takeReady().waitNanos()).isEqualTo(Duration.ofMillis(9).toNanos());
  }

  /**
   * With the model behind, full batches of a common size keep coming: a batch of another size whose
   * delay passed before they filled goes first, not once it has filled too.
   */
  @Test
  void anExpiredBatchGoesBeforeFullBatchesThatFilledAfterItsDeadline() {
    batcher.add("rare", 1);
    advanceMillis(20); // its delay passed at 10
    batcher.add("a", 2);
    batcher.add("a", 3);
    batcher.add("a", 4);
    batcher.add("a", 5);
    batcher.add("a", 6);
    batcher.add("a", 7);

    assertThat(batcher.takeReady().key()).isEqualTo("rare");
    assertThat(batcher.takeReady().items()).containsExactly(2, 3, 4);
    assertThat(batcher.takeReady().items()).containsExactly(5, 6, 7);
    assertThat(batcher.takeReady()).isNull();
  }

  /**
   * A batch whose delay ran out while no slot was free, and that filled up afterwards, is ready from
   * its deadline, not from when it filled: it goes before a younger batch whose delay ran out in
   * between. Before, the younger one went first and the older frames waited another batch's run.
   */
  @Test
  void aBatchThatFilledAfterItsDeadlineIsReadyFromItsDeadline() {
    batcher.add("a", 1); // ready by delay at 10
    advanceMillis(5);
    batcher.add("b", 2); // ready by delay at 15
    advanceMillis(13);
    batcher.add("a", 3);
    advanceMillis(2);
    batcher.add("a", 4); // full at 20
    advanceMillis(5);

    assertThat(batcher.takeReady().items()).containsExactly(1, 3, 4);
    assertThat(batcher.takeReady().items()).containsExactly(2);
    assertThat(batcher.takeReady()).isNull();
  }

  /** Of two full batches, the one that was ready first goes first, whichever filled first. */
  @Test
  void fullBatchesGoInTheOrderTheyBecameReady() {
    batcher.add("a", 1); // ready by delay at 10
    advanceMillis(12);
    batcher.add("b", 2);
    batcher.add("b", 3);
    batcher.add("b", 4); // full, ready at 12
    advanceMillis(1);
    batcher.add("a", 5);
    batcher.add("a", 6); // full at 13, ready since 10

    assertThat(batcher.takeReady().items()).containsExactly(1, 5, 6);
    assertThat(batcher.takeReady().items()).containsExactly(2, 3, 4);
  }

  @Test
  void aBatchNotTakenKeepsFillingUpToMaxSizeThenANewOneOpens() {
    batcher.add("a", 1);
    advanceMillis(50); // ready by delay, but the caller had no free inference slot
    batcher.add("a", 2);
    batcher.add("a", 3);
    batcher.add("a", 4);

    assertThat(batcher.takeReady().items()).containsExactly(1, 2, 3);
    assertThat(batcher.size()).isEqualTo(1);
    assertThat(batcher.takeReady()).as("the new batch has its own delay").isNull();
  }

  @Test
  void drainReturnsEveryBatchFullOrNot() {
    batcher.add("a", 1);
    batcher.add("a", 2);
    batcher.add("a", 3);
    batcher.add("a", 4);
    batcher.add("b", 5);

    assertThat(batcher.drain())
        .extracting(Batch::items)
        .containsExactly(java.util.List.of(1, 2, 3), java.util.List.of(4), java.util.List.of(5));
    assertThat(batcher.size()).isZero();
    assertThat(batcher.takeReady()).isNull();
  }

  /** A batch's wait runs until it is taken, drained or not: a full batch's too, not until it filled. */
  @Test
  void drainStampsEveryBatchAsClosedNow() {
    batcher.add("a", 1);
    batcher.add("a", 2);
    batcher.add("a", 3); // full at once
    batcher.add("b", 4);
    advanceMillis(5);

    assertThat(batcher.drain())
        .extracting(Batch::waitNanos)
        .containsExactly(Duration.ofMillis(5).toNanos(), Duration.ofMillis(5).toNanos());
  }

  /** A batch cannot hold null (its items are an immutable list): refused before it joins one. */
  @Test
  void aNullItemIsRefusedWithoutLosingItsBatch() {
    batcher.add("a", 1);
    batcher.add("a", 2);

    assertThatThrownBy(() -> batcher.add("a", null)).isInstanceOf(NullPointerException.class);
    assertThat(batcher.size()).isEqualTo(2);
    batcher.add("a", 3);
    assertThat(batcher.takeReady().items()).containsExactly(1, 2, 3);
  }

  @Test
  void maxSizeOfOneMakesEveryItemItsOwnBatch() {
    Batcher<String, Integer> single = new Batcher<>(new BatchPolicy(1, BatchPolicy.ANY_PIXELS, 0), () -> now);
    single.add("a", 1);
    single.add("a", 2);
    assertThat(single.takeReady().items()).containsExactly(1);
    assertThat(single.takeReady().items()).containsExactly(2);
  }

  @Test
  void aBatchOfLargeItemsIsFullAtTheMostThatFitInMaxPixels() {
    // 100 pixels a batch at most: "small" items have 10, "large" 40, "huge" 150.
    Map<String, Long> pixels = Map.of("small", 10L, "large", 40L, "huge", 150L);
    Batcher<String, Integer> byPixels =
        new Batcher<>(new BatchPolicy(3, 100, Duration.ofMillis(10).toNanos()), pixels::get, () -> now);

    byPixels.add("large", 1);
    assertThat(byPixels.takeReady()).isNull();
    byPixels.add("large", 2);
    assertThat(byPixels.takeReady().items()).as("two of 40 fit in 100, three do not").containsExactly(1, 2);

    byPixels.add("huge", 3);
    assertThat(byPixels.takeReady().items()).as("larger than a batch: runs alone, at once").containsExactly(3);

    byPixels.add("small", 4);
    byPixels.add("small", 5);
    assertThat(byPixels.takeReady()).isNull();
    byPixels.add("small", 6);
    assertThat(byPixels.takeReady().items()).as("maxSize still caps small items").containsExactly(4, 5, 6);
  }

  @Test
  void policySizesBatchesByPixels() {
    BatchPolicy policy = new BatchPolicy(16, 4_194_304, 0);
    assertThat(policy.maxSizeFor(224 * 224)).isEqualTo(16);
    assertThat(policy.maxSizeFor(1280 * 720)).isEqualTo(4);
    assertThat(policy.maxSizeFor(1920 * 1080)).isEqualTo(2);
    assertThat(policy.maxSizeFor(3840 * 2160)).isEqualTo(1);
    assertThat(policy.maxSizeFor(0)).as("size unknown").isEqualTo(16);
    assertThat(BatchPolicy.of(8, Duration.ZERO).maxSizeFor(1L << 40)).as("no pixel bound").isEqualTo(8);
    assertThat(BatchPolicy.of(8, Duration.ZERO).maxSizeFor(1920 * 1080)).isEqualTo(8);
  }

  @Test
  void policySizesRunsByPixelsWithinTheBatch() {
    BatchPolicy policy = new BatchPolicy(16, 4_194_304, 0, 2L * 224 * 224);
    assertThat(policy.runSizeFor(224 * 224)).isEqualTo(2);
    assertThat(policy.runSizeFor(112 * 112)).isEqualTo(8);
    assertThat(policy.runSizeFor(64 * 64)).as("never more than a batch").isEqualTo(16);
    assertThat(policy.runSizeFor(640 * 480)).as("a larger frame runs alone").isEqualTo(1);
    assertThat(policy.runSizeFor(0)).as("size unknown: the batch").isEqualTo(16);
    assertThat(new BatchPolicy(16, 4_194_304, 0).runSizeFor(224 * 224)).as("runs unbounded").isEqualTo(16);
    assertThat(new BatchPolicy(16, 4_194_304, 0).runSizeFor(1920 * 1080)).isEqualTo(2);
    assertThat(policy.withRunPixels(BatchPolicy.ANY_PIXELS)).isEqualTo(new BatchPolicy(16, 4_194_304, 0));
  }

  @Test
  void policyRejectsNonsense() {
    assertThatThrownBy(() -> new BatchPolicy(0, 1, 1)).hasMessageContaining("maxSize");
    assertThatThrownBy(() -> new BatchPolicy(1, 0, 1)).hasMessageContaining("maxPixels");
    assertThatThrownBy(() -> new BatchPolicy(1, 1, -1)).hasMessageContaining("maxDelayNanos");
    assertThatThrownBy(() -> new BatchPolicy(1, 1, 1, 0)).hasMessageContaining("runPixels");
  }
}
