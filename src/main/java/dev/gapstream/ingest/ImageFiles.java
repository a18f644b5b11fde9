package dev.gapstream.ingest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A directory of image files, as the commands that send one read it ({@code produce}, {@code load}
 * and {@code bench --images}): which files are frames, and how each is typed.
 */
public final class ImageFiles {

  private ImageFiles() {}

  /**
   * The regular files in {@code dir} named as one of {@code formats}, in name order; hidden ones
   * (such as macOS's {@code ._name.jpg} metadata) and directories left out. Not recursive.
   */
  public static List<Path> in(Path dir, Set<ImageFormat> formats) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> !f.getFileName().toString().startsWith("."))
          .filter(f -> named(f) != null && formats.contains(named(f)))
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    }
  }

  /**
   * The {@code content-type} of a file's bytes, or of its name where they announce no format: the
   * pipeline trusts the header over the bytes, so a PNG saved as {@code .jpg} sent as JPEG would be
   * dead-lettered undecodable.
   *
   * @throws IllegalArgumentException when neither names a format
   */
  public static String contentType(byte[] data, Path file) {
    ImageFormat format = ImageFormat.sniff(data);
    if (format == null) {
      format = named(file);
    }
    if (format == null) {
      throw new IllegalArgumentException(file + ": neither its bytes nor its name say an image format");
    }
    return format.contentType();
  }

  /** The format {@code file}'s extension names, or null. */
  static ImageFormat named(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    int dot = name.lastIndexOf('.');
    if (dot < 0) {
      return null;
    }
    return switch (name.substring(dot + 1)) {
      case "jpg", "jpeg" -> ImageFormat.JPEG;
      case "png" -> ImageFormat.PNG;
      case "bmp" -> ImageFormat.BMP;
      case "gif" -> ImageFormat.GIF;
      default -> null;
    };
  }
}
