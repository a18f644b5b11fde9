package dev.gapstream.cli;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar on a command's error stream, redrawn at most ten times a second. The
 * command's own stream, not {@code System.err}: what the command prints after the bar then follows
 * it in order, on a line of its own once {@link #finish} has ended the bar's.
 */
final class Progress {

  private static final int WIDTH = 30;

  private final String label;
  private final long total;
  private final PrintWriter out;
  private final LongSupplier nanoTime;
  private final long start;
  private long lastDraw;

  Progress(String label, long total, PrintWriter out) {
    this(label, total, out, System::nanoTime);
  }

  /** {@code nanoTime}: the clock of the rate shown, which counts from here. */
  Progress(String label, long total, PrintWriter out, LongSupplier nanoTime) {
    this.label = label;
    this.total = total;
    this.out = out;
    this.nanoTime = nanoTime;
    this.start = nanoTime.getAsLong();
  }

  void update(long done, long failed) {
    long now = nanoTime.getAsLong();
    if (now - lastDraw > 100_000_000L) {
      lastDraw = now;
      draw(done, failed, "\r");
    }
  }

  void finish(long done, long failed) {
    draw(done, failed, "\r");
    out.println();
  }

  private void draw(long done, long failed, String prefix) {
    int filled = total == 0 ? WIDTH : (int) (WIDTH * Math.min(1.0, (double) (done + failed) / total));
    double seconds = (nanoTime.getAsLong() - start) / 1e9;
    out.printf(
        "%s%s [%s%s] %d/%d  %.0f/s%s",
        prefix,
        label,
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        done,
        total,
        seconds > 0 ? done / seconds : 0.0,
        failed > 0 ? "  failed " + failed : "");
    out.flush();
  }
}
