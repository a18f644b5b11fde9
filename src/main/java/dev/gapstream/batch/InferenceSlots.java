package dev.gapstream.batch;

/**
 * Decides when a batch leaves the {@link Batcher} for the model. While fewer than {@code
 * concurrency} batches are out, any ready batch goes. While the model is busy, one more may go
 * ahead, so that its tensor is prepared by the time the model is free, but only a full one: a
 * batch that is not full yet keeps filling until the model can take it, which is what gives a busy
 * model larger batches.
 *
 * <p>Not thread-safe: owned by the same thread as the batcher.
 */
public final class InferenceSlots {

  private final int concurrency;
  private final int ahead;
  private int out;

  /** @param concurrency batches the model runs at once ({@code inference.concurrency}) */
  public InferenceSlots(int concurrency) {
    this(concurrency, true);
  }

  /**
   * @param prepareAhead false for none ahead: each batch leaves only when the model is free (what
   *     {@code bench --compare-prepare-ahead} measures against)
   */
  public InferenceSlots(int concurrency, boolean prepareAhead) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
    }
    this.concurrency = concurrency;
    this.ahead = prepareAhead ? 1 : 0;
  }

  /** Threads the inference pool needs: one per batch the model runs, and one preparing ahead. */
  public int poolSize() {
    return concurrency + ahead;
  }

  /** Takes the next batch that may go to the model now, or {@code null}; counts it as out. */
  public <K, T> Batch<K, T> take(Batcher<K, T> batcher) {
    Batch<K, T> batch =
        out < concurrency ? batcher.takeReady() : out < concurrency + ahead ? batcher.takeFull() : null;
    if (batch != null) {
      out++;
    }
    return batch;
  }

  /** Counts a batch taken elsewhere (a shutdown's drained batch) as out; false when there is no room. */
  public boolean tryTakeAny() {
    if (out >= concurrency + ahead) {
      return false;
    }
    out++;
    return true;
  }

  /** A batch came back from the model. */
  public void finished() {
    if (out == 0) {
      throw new IllegalStateException("no batch is out");
    }
    out--;
  }

  /**
   * Whether a batch that is ready only by its delay could go now: when not, there is no point in
   * a timer for the batcher's next deadline.
   */
  public boolean acceptsPartial() {
    return out < concurrency;
  }

  /** Batches out: in the model, or prepared and waiting for it. */
  public int out() {
    return out;
  }
}
