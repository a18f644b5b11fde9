package dev.gapstream.kafka;

import dev.gapstream.FileErrors;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive lock on a broker's data directory, taken before anything in it is formatted or
 * read, held until closed: one embedded broker per directory, across processes (an OS file lock,
 * gone with the process however it ends) and within one JVM. Kafka's own lock comes too late: a
 * second broker's controller had already run on the first one's metadata log.
 */
final class DirectoryLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DirectoryLock.class);
  /** In the directory: Kafka loads only subdirectories of a log directory, and its own files. */
  static final String FILE = ".gapstream.lock";

  /**
   * The directories locked in this JVM, checked before any channel is opened: on Linux, closing
   * any channel to the lock file (one that found it locked, say) drops the process's lock on it.
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(Path key, FileChannel channel, FileLock lock) {
    this.key = key;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes {@code dir}'s lock, creating the directory where it is missing.
   *
   * @throws KafkaBrokerException naming the directory where another broker holds it
   */
  static DirectoryLock take(Path dir) {
    Path key;
    try {
      Files.createDirectories(dir);
      key = dir.toRealPath();
    } catch (IOException e) {
      throw new KafkaBrokerException("cannot create the Kafka data directory " + dir + ": " + FileErrors.describe(e), e);
    }
    if (!HELD.add(key)) {
      throw inUse(dir);
    }
    FileChannel channel = null;
    DirectoryLock taken = null;
    try {
      channel = FileChannel.open(key.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw inUse(dir);
      }
      taken = new DirectoryLock(key, channel, lock);
      return taken;
    } catch (OverlappingFileLockException e) { // locked in this JVM, not by a DirectoryLock
      throw inUse(dir);
    } catch (IOException e) {
      throw new KafkaBrokerException("cannot lock the Kafka data directory " + dir + ": " + FileErrors.describe(e), e);
    } finally {
      if (taken == null) {
        closeQuietly(channel);
        HELD.remove(key);
      }
    }
  }

  private static KafkaBrokerException inUse(Path dir) {
    return new KafkaBrokerException(
        "the Kafka data directory " + dir + " is in use by another embedded broker (its " + FILE
            + " is locked): give each process a directory of its own",
        null);
  }

  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException e) {
      LOG.debug("releasing {}: {}", FILE, e.toString());
    }
    closeQuietly(channel);
    HELD.remove(key);
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debug("closing {}: {}", FILE, e.toString());
    }
  }
}
