package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ScoresTest {

  @Test
  void softmaxIsStableAndSumsToOne() {
    float[] p = Scores.softmax(new float[] {7, 1000f, 1001f, 999f}, 1, 3);
    assertThat(p[0] + p[1] + p[2]).isCloseTo(1f, within(1e-6f));
    assertThat(p[1]).isGreaterThan(p[0]).isGreaterThan(p[2]);
    assertThat(p[1]).isCloseTo(0.6652f, within(1e-4f));
  }

  @Test
  void topKIsOrderedBestFirst() {
    float[] s = {0.1f, 0.5f, 0.05f, 0.3f, 0.05f};
    assertThat(Scores.topK(s, 3))
        .containsExactly(
            new Scores.Scored(1, 0.5f), new Scores.Scored(3, 0.3f), new Scores.Scored(0, 0.1f));
    assertThat(Scores.topK(s, 9)).hasSize(5);
    assertThat(Scores.topK(new float[] {1, 1}, 1)).containsExactly(new Scores.Scored(0, 1f));
    assertThat(Scores.argmax(s, 0, s.length)).isEqualTo(1);
  }
}
