package dev.gapstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {

  private final OffsetTracker tracker = new OffsetTracker();

  @Test
  void outOfOrderCompletionCommitsOnlyTheContiguousPrefix() {
    for (long o = 10; o < 15; o++) {
      tracker.consumed(o);
    }
    assertThat(tracker.committablePosition()).isEqualTo(-1);

    assertThat(tracker.finished(12)).isFalse();
    assertThat(tracker.finished(11)).isFalse();
    assertThat(tracker.committablePosition()).as("10 is still in flight").isEqualTo(-1);

    assertThat(tracker.finished(10)).isTrue();
    assertThat(tracker.committablePosition()).as("10, 11, 12 done: next to read is 13").isEqualTo(13);

    assertThat(tracker.finished(14)).isFalse();
    assertThat(tracker.committablePosition()).isEqualTo(13);
    assertThat(tracker.finished(13)).isTrue();
    assertThat(tracker.committablePosition()).isEqualTo(15);
    assertThat(tracker.pendingCount()).isZero();
  }

  @Test
  void finishedRecordsBehindAnUnfinishedOneStayUncommitted() {
    for (long o = 0; o < 5; o++) {
      tracker.consumed(o);
    }
    tracker.finished(1);
    tracker.finished(2);
    tracker.finished(4);
    assertThat(tracker.pendingCount()).as("unfinished: 0 and 3").isEqualTo(2);
    assertThat(tracker.uncommittedCount()).as("all five wait for 0").isEqualTo(5);
    tracker.finished(0);
    assertThat(tracker.uncommittedCount()).as("3 and 4 wait for 3").isEqualTo(2);
    tracker.finished(3);
    assertThat(tracker.uncommittedCount()).isZero();
  }

  @Test
  void gapsInOffsetsFromCompactionOrTransactionMarkersAreFine() {
    tracker.consumed(3);
    tracker.consumed(7);
    tracker.consumed(8);
    tracker.finished(7);
    tracker.finished(3);
    assertThat(tracker.committablePosition()).isEqualTo(8);
  }

  @Test
  void unknownAndRepeatedFinishesAreIgnored() {
    tracker.consumed(1);
    assertThat(tracker.finished(99)).isFalse();
    assertThat(tracker.finished(1)).isTrue();
    assertThat(tracker.finished(1)).isFalse();
    assertThat(tracker.committablePosition()).isEqualTo(2);
  }

  @Test
  void offsetsMustIncrease() {
    tracker.consumed(5);
    assertThatThrownBy(() -> tracker.consumed(5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> tracker.consumed(4)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anyCompletionOrderNeverCommitsPastAnUnfinishedRecord() {
    Random random = new Random(42);
    for (int round = 0; round < 200; round++) {
      OffsetTracker t = new OffsetTracker();
      List<Long> offsets = new ArrayList<>();
      for (long o = 0; o < 50; o++) {
        t.consumed(o);
        offsets.add(o);
      }
      Collections.shuffle(offsets, random);
      boolean[] done = new boolean[50];
      for (long o : offsets) {
        t.finished(o);
        done[(int) o] = true;
        int prefix = 0;
        while (prefix < 50 && done[prefix]) {
          prefix++;
        }
        assertThat(t.committablePosition()).isEqualTo(prefix == 0 ? -1 : prefix);
      }
    }
  }

  @Test
  void outputsAreReleasedInOffsetOrderWhateverOrderTheyAreReadyIn() {
    List<Long> sent = new ArrayList<>();
    for (long o = 20; o < 25; o++) {
      tracker.consumed(o);
    }
    tracker.release(22, () -> sent.add(22L));
    tracker.release(21, () -> sent.add(21L));
    assertThat(sent).as("20 is not ready: nothing may overtake it").isEmpty();

    tracker.release(20, () -> sent.add(20L));
    assertThat(sent).containsExactly(20L, 21L, 22L);

    tracker.release(24, () -> sent.add(24L));
    tracker.release(23, () -> sent.add(23L));
    assertThat(sent).containsExactly(20L, 21L, 22L, 23L, 24L);
  }

  @Test
  void anOutputOfAnOffsetNotHeldRunsAtOnce() {
    tracker.consumed(5);
    List<Long> sent = new ArrayList<>();
    tracker.release(99, () -> sent.add(99L));
    assertThat(sent).containsExactly(99L);
  }

  @Test
  void aRevokedPartitionDropsTheOutputsNotSentYetAndEveryLaterOne() {
    List<String> events = new ArrayList<>();
    for (long o = 30; o < 34; o++) {
      tracker.consumed(o);
    }
    tracker.release(30, () -> events.add("sent 30"), () -> events.add("dropped 30"));
    tracker.release(32, () -> events.add("sent 32"), () -> events.add("dropped 32"));
    assertThat(events).containsExactly("sent 30");

    tracker.revoke();
    assertThat(tracker.isRevoked()).isTrue();
    assertThat(events).as("32 waited for 31: dropped at the revocation").containsExactly("sent 30", "dropped 32");

    tracker.release(31, () -> events.add("sent 31"), () -> events.add("dropped 31"));
    tracker.release(33, () -> events.add("sent 33"), () -> events.add("dropped 33"));
    assertThat(events).containsExactly("sent 30", "dropped 32", "dropped 31", "dropped 33");
  }
}
