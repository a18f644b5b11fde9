package dev.gapstream.testing;

import io.vertx.core.Context;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a test's step on a Vert.x context, as the code under test runs, and waits for its result. */
public final class OnContext {

  private OnContext() {}

  /** {@code action}'s result, run on {@code context}; what it throws is rethrown (wrapped). */
  public static <T> T call(Context context, Callable<T> action) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        result.complete(action.call());
      } catch (Throwable e) {
        result.completeExceptionally(e);
      }
    });
    return result.get(10, TimeUnit.SECONDS);
  }
}
