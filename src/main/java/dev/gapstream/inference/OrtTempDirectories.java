package dev.gapstream.inference;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directories ONNX Runtime's Java loader leaves behind. Each JVM that loads it makes an {@code
 * onnxruntime-java<random>} directory in {@code java.io.tmpdir} to extract its native libraries
 * into; the libraries are deleted at exit, the directory never is (1.28.0). Every {@code
 * gapstream} command left one: a cron job running {@code load} every minute, 1,440 empty
 * directories a day.
 */
public final class OrtTempDirectories {

  private static final Logger LOG = LoggerFactory.getLogger(OrtTempDirectories.class);
  private static final String PREFIX = "onnxruntime-java";

  /**
   * How old an empty one must be to go: a process starting now makes its directory, empty for the
   * moment before it extracts into it.
   */
  public static final Duration MIN_AGE = Duration.ofMinutes(10);

  private OrtTempDirectories() {}

  /**
   * Deletes the empty {@code onnxruntime-java*} directories in {@code tmp} last modified more
   * than {@link #MIN_AGE} ago, and returns how many went. One that is not empty, or not this
   * user's to delete, is left; nothing here fails the caller.
   */
  public static int sweep(Path tmp) {
    Instant before = Instant.now().minus(MIN_AGE);
    int deleted = 0;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
      for (Path dir : dirs) {
        try {
          if (Files.isDirectory(dir)
              && Files.getLastModifiedTime(dir).toInstant().isBefore(before)
              && isEmpty(dir)) {
            Files.delete(dir);
            deleted++;
          }
        } catch (IOException e) {
          LOG.debug("left {}: {}", dir, e.toString());
        }
      }
    } catch (IOException e) {
      LOG.debug("could not list {}: {}", tmp, e.toString());
    }
    return deleted;
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return !entries.iterator().hasNext();
    }
  }
}
