package dev.gapstream.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class InferenceSlotsTest {

  private long now;
  private final Batcher<String, Integer> batcher =
      new Batcher<>(BatchPolicy.of(2, Duration.ofMillis(10)), () -> now);
  private final InferenceSlots slots = new InferenceSlots(1);

  @Test
  void anIdleModelTakesABatchThatIsReadyByItsDelay() {
    batcher.add("a", 1);
    assertThat(slots.take(batcher)).isNull();
    assertThat(slots.acceptsPartial()).isTrue();

    now += Duration.ofMillis(10).toNanos();
    assertThat(slots.take(batcher).items()).containsExactly(1);
    assertThat(slots.out()).isEqualTo(1);
  }

  @Test
  void aBusyModelLetsOnlyAFullBatchGoAheadAndOnlyOne() {
    batcher.add("a", 1);
    now += Duration.ofMillis(10).toNanos();
    slots.take(batcher);

    batcher.add("a", 2);
    now += Duration.ofMillis(50).toNanos();
    assertThat(slots.acceptsPartial()).isFalse();
    assertThat(slots.take(batcher)).as("overdue but not full: it keeps filling").isNull();

    batcher.add("a", 3);
    assertThat(slots.take(batcher).items()).containsExactly(2, 3);
    assertThat(slots.out()).isEqualTo(2);

    batcher.add("a", 4);
    batcher.add("a", 5);
    assertThat(slots.take(batcher)).as("one batch ahead at most").isNull();

    slots.finished();
    assertThat(slots.take(batcher).items()).as("the ahead batch is in the model now").containsExactly(4, 5);
  }

  @Test
  void partialBatchesGoAgainOnceTheModelIsFree() {
    batcher.add("a", 1);
    batcher.add("a", 2);
    slots.take(batcher);
    batcher.add("a", 3);
    now += Duration.ofMillis(20).toNanos();
    assertThat(slots.take(batcher)).isNull();

    slots.finished();
    assertThat(slots.acceptsPartial()).isTrue();
    assertThat(slots.take(batcher).items()).containsExactly(3);
  }

  @Test
  void drainedBatchesCountAgainstTheSameRoom() {
    assertThat(slots.tryTakeAny()).isTrue();
    assertThat(slots.tryTakeAny()).isTrue();
    assertThat(slots.tryTakeAny()).isFalse();
    slots.finished();
    assertThat(slots.tryTakeAny()).isTrue();
  }

  @Test
  void withoutPrepareAheadABatchLeavesOnlyWhenTheModelIsFree() {
    InferenceSlots plain = new InferenceSlots(1, false);
    batcher.add("a", 1);
    batcher.add("a", 2);
    assertThat(plain.take(batcher)).isNotNull();
    batcher.add("a", 3);
    batcher.add("a", 4);
    assertThat(plain.take(batcher)).isNull();
    assertThat(plain.tryTakeAny()).isFalse();
    assertThat(plain.poolSize()).isEqualTo(1);
  }

  @Test
  void misuseIsAnError() {
    assertThatThrownBy(() -> new InferenceSlots(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(slots::finished).isInstanceOf(IllegalStateException.class);
    assertThat(new InferenceSlots(2).poolSize()).isEqualTo(3);
  }
}
