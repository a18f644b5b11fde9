package dev.gapstream;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Words for a failed file operation. A {@link FileSystemException}'s message is often the path
 * alone: "error: /data/frames" said what, not why.
 */
public final class FileErrors {
  private FileErrors() {}

  /** Why {@code e} failed: "permission denied", "no such file or directory", the OS's reason… */
  public static String why(IOException e) {
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NotDirectoryException) {
      return "not a directory";
    }
    if (e instanceof FileAlreadyExistsException) {
      return "a file is in the way";
    }
    if (e instanceof FileSystemException || e.getMessage() == null) {
      return e.getClass().getSimpleName();
    }
    return e.getMessage(); // a plain IOException's: "Is a directory"
  }

  /** The file and why, "/data/frames: permission denied", where {@code e} names a file; else {@link #why}. */
  public static String describe(IOException e) {
    if (e instanceof FileSystemException f && f.getFile() != null) {
      return f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": " + why(e);
    }
    return why(e);
  }
}
