package dev.gapstream.inference;

import java.util.Locale;

/**
 * How an {@link InferenceEngine} runs its session. Immutable.
 *
 * @param intraOpThreads threads one {@code run} may use inside an operator; ≥ 1
 * @param provider where the model runs
 */
public record EngineOptions(int intraOpThreads, Provider provider) {

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

  /** CPU with the given number of threads. */
  public static EngineOptions cpu(int threads) {
    return new EngineOptions(threads, Provider.CPU);
  }
}
