package dev.gapstream.inference;

import java.util.ArrayList;
import java.util.List;

/** Softmax and top-k over logits. Stateless, allocation limited to the returned values. */
public final class Scores {

  /** One class and its probability. */
  public record Scored(int index, float score) {}

  private Scores() {}

  /** Softmax of {@code logits[offset .. offset+length)}, computed stably (max subtracted first). */
  public static float[] softmax(float[] logits, int offset, int length) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < length; i++) {
      max = Math.max(max, logits[offset + i]);
    }
    float[] out = new float[length];
    double sum = 0;
    for (int i = 0; i < length; i++) {
      out[i] = (float) Math.exp(logits[offset + i] - max);
      sum += out[i];
    }
    for (int i = 0; i < length; i++) {
      out[i] = (float) (out[i] / sum);
    }
    return out;
  }

  /**
   * The {@code k} highest scores, best first; ties keep the lower index first. Returns fewer when
   * there are fewer than {@code k} scores.
   */
  public static List<Scored> topK(float[] scores, int k) {
    int m = Math.min(k, scores.length);
    int[] best = new int[m];
    int filled = 0;
    for (int i = 0; i < scores.length; i++) {
      // insertion into a small sorted array: k is tiny (1–5) next to the class count
      int pos = filled;
      while (pos > 0 && scores[i] > scores[best[pos - 1]]) {
        pos--;
      }
      if (pos < m) {
        int end = Math.min(filled, m - 1);
        System.arraycopy(best, pos, best, pos + 1, end - pos);
        best[pos] = i;
        filled = Math.min(filled + 1, m);
      }
    }
    List<Scored> out = new ArrayList<>(m);
    for (int j = 0; j < m; j++) {
      out.add(new Scored(best[j], scores[best[j]]));
    }
    return out;
  }

  /** Index of the largest value in {@code v[offset .. offset+length)}. */
  public static int argmax(float[] v, int offset, int length) {
    int best = 0;
    for (int i = 1; i < length; i++) {
      if (v[offset + i] > v[offset + best]) {
        best = i;
      }
    }
    return best;
  }
}
