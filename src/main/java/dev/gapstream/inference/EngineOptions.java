package dev.gapstream.inference;

import java.util.Locale;

/**
 * How an {@link InferenceEngine} runs its session. Immutable.
 *
 * @param intraOpThreads threads one {@code run} may use inside an operator; ≥ 1
 * @param provider where the model runs
 * @param spinWait whether ONNX Runtime's intra-op threads busy-wait for work between operators
 *     (ORT's own default). Off by default here: the decode workers need the same cores, and
 *     turning it off measured 3.4× in-process throughput with the small shipped-model stand-in
 *     (1.00–1.03× with ResNet-18 on a quiet machine); see BENCHMARKS.md, {@code bench --compare-spin-wait}
 * @param cams whether runs also return what class activation maps are made from (the class maps or
 *     the pre-GAP features). Off ({@code cam.enabled=false}), no extra output is copied out of each
 *     run and no stride is probed at load; the graph is rewritten only where the pre-Softmax
 *     logits are an inner tensor, as with CAMs on
 */
public record EngineOptions(int intraOpThreads, Provider provider, boolean spinWait, boolean cams) {

  /** ONNX Runtime execution provider, as named by the {@code inference.provider} key. */
  public enum Provider {
    CPU,
    CUDA;

    /**
     * Parses {@code cpu} or {@code cuda}, any case.
     *
     * @throws ModelException naming {@code inference.provider} for any other value
     */
    public static Provider fromConfig(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new ModelException(
            "inference.provider: '" + value + "' is not a provider (expected cpu or cuda)");
      }
    }
  }

  public EngineOptions {
    if (intraOpThreads < 1) {
      throw new ModelException("inference.threads: must be >= 1, was " + intraOpThreads);
    }
    if (provider == null) {
      throw new ModelException("inference.provider: missing");
    }
  }

  /** Options without spin-waiting, with CAMs (the defaults). */
  public EngineOptions(int intraOpThreads, Provider provider) {
    this(intraOpThreads, provider, false, true);
  }

  /** The same options with spin-waiting on or off. */
  public EngineOptions withSpinWait(boolean spin) {
    return new EngineOptions(intraOpThreads, provider, spin, cams);
  }

  /** The same options with CAMs on or off. */
  public EngineOptions withCams(boolean on) {
    return new EngineOptions(intraOpThreads, provider, spinWait, on);
  }

  /** The same options with {@code threads} intra-op threads. */
  public EngineOptions withIntraOpThreads(int threads) {
    return new EngineOptions(threads, provider, spinWait, cams);
  }

  /** CPU with the given number of threads. */
  public static EngineOptions cpu(int threads) {
    return new EngineOptions(threads, Provider.CPU);
  }
}
