package dev.gapstream.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;

/**
 * Which libjpeg this JVM's ImageIO decodes JPEG frames with: the service logs it at start (a
 * warning for the slow one) and {@code bench} reports it. Builds of the same JDK differ here:
 * Debian's and Ubuntu's OpenJDK link the system's libjpeg-turbo (SIMD), while OpenJDK's default
 * build — Temurin's, among others — carries the IJG libjpeg 6b of 1998 inside {@code
 * libjavajpeg}, which took 1.9 times as long per 224×224 frame (BENCHMARKS.md, tenth session).
 * Read from the process's memory map ({@code /proc/self/maps}, Linux), so it names the library
 * only once the JDK has loaded it, with its first JPEG reader ({@link #load}).
 */
public final class JpegLibrary {

  public static final String BUILT_IN = "the JDK's own (IJG libjpeg 6b in libjavajpeg)";
  public static final String NOT_LOADED = "not loaded";
  public static final String UNKNOWN = "unknown";

  private static final Pattern TURBO_VERSION = Pattern.compile("libjpeg-turbo version ([0-9][0-9.]*)");

  private JpegLibrary() {}

  /**
   * This JVM's JPEG library, loaded first if no JPEG was read yet: the JDK loads it with its first
   * JPEG reader.
   */
  public static String load() {
    try {
      ImageReader reader = ImageIO.getImageReadersByFormatName("jpeg").next();
      reader.dispose();
    } catch (RuntimeException | LinkageError e) {
      return UNKNOWN;
    }
    return describe();
  }

  /** This process's JPEG library: see {@link #fromMaps}. */
  public static String describe() {
    try {
      return fromMaps(Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.ISO_8859_1));
    } catch (IOException | RuntimeException e) {
      return UNKNOWN;
    }
  }

  /**
   * From the lines of a process's memory map: a system libjpeg mapped with the JDK's JPEG library,
   * by its libjpeg-turbo version where the file names one ({@code libjpeg-turbo 2.1.5
   * (/usr/lib/…/libjpeg.so.62.3.0)}); {@link #BUILT_IN} where the JDK's library came alone; {@link
   * #NOT_LOADED} where no JPEG was decoded.
   */
  static String fromMaps(List<String> lines) {
    boolean jdkLibrary = false;
    for (String line : lines) {
      int slash = line.indexOf('/');
      if (slash < 0) {
        continue;
      }
      Path file = Path.of(line.substring(slash).trim());
      String name = file.getFileName().toString();
      if (name.startsWith("libjavajpeg")) {
        jdkLibrary = true;
      } else if (name.startsWith("libjpeg.so")) {
        return turboVersion(file).map(v -> "libjpeg-turbo " + v + " (" + file + ")").orElse(file.toString());
      }
    }
    return jdkLibrary ? BUILT_IN : NOT_LOADED;
  }

  /** What to tell an operator whose JVM decodes with {@code described}: a warning for the slow one. */
  public static Optional<String> warning(String described) {
    return BUILT_IN.equals(described)
        ? Optional.of(
            "JPEG frames decode with this JDK's built-in libjpeg 6b, about half as fast as the"
                + " system libjpeg-turbo that Debian's and Ubuntu's OpenJDK packages use (the image's"
                + " JRE); see BENCHMARKS.md")
        : Optional.empty();
  }

  private static Optional<String> turboVersion(Path library) {
    try {
      Matcher m = TURBO_VERSION.matcher(new String(Files.readAllBytes(library), StandardCharsets.ISO_8859_1));
      return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
