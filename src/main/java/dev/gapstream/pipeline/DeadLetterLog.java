package dev.gapstream.pipeline;

import dev.gapstream.ingest.RejectReason;
import java.util.EnumMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's account of dead letters: for each reason, a line for the first, then at most one every
 * {@link #LOG_EVERY_MS}, which gives how many more there were in the {@link #LOG_EVERY_MS} after
 * the one before (each of those at DEBUG; they are summed up when the next one comes). A
 * camera that sends what cannot be decoded sends it with every frame, 30 a second, and a line each
 * would bury the log; the dead-letter topic keeps every one with its error, and
 * {@code gapstream_frames_rejected_total} counts them.
 *
 * <p>Confined to the event loop; not thread-safe.
 */
final class DeadLetterLog {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterLog.class);
  static final long LOG_EVERY_MS = 10_000;

  /** Per reason: when its last line was logged, and how many dead letters went unlogged since. */
  private final Map<RejectReason, Window> windows = new EnumMap<>(RejectReason.class);

  private static final class Window {
    long loggedAtMs;
    long unlogged;
  }

  void deadLettered(String source, RejectReason reason, String error, long nowMs) {
    Window window = windows.get(reason);
    if (window != null && nowMs - window.loggedAtMs < LOG_EVERY_MS) {
      window.unlogged++;
      LOG.debug("Frame {} dead-lettered ({}): {}", source, reason.wireName(), error);
      return;
    }
    if (window == null) {
      window = new Window();
      windows.put(reason, window);
    }
    if (window.unlogged == 0) {
      LOG.warn("Frame {} dead-lettered ({}): {}", source, reason.wireName(), error);
    } else {
      LOG.warn(
          "Frame {} dead-lettered ({}): {} [{} more dead-lettered ({}) in the {} s after the last such line,"
              + " logged at DEBUG]",
          source, reason.wireName(), error, window.unlogged, reason.wireName(), LOG_EVERY_MS / 1000);
    }
    window.loggedAtMs = nowMs;
    window.unlogged = 0;
  }
}
