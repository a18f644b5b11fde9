package dev.gapstream.bench;

import dev.gapstream.FileErrors;
import dev.gapstream.GapstreamException;
import dev.gapstream.ingest.ImageFiles;
import dev.gapstream.ingest.ImageFormat;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrame;
import dev.gapstream.synth.SyntheticFrames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The frames a benchmark feeds in, prepared before any clock starts. At most {@value #DISTINCT}
 * distinct frames are generated or read and then repeated: enough variety for the decoder and the
 * model, without minutes of JPEG encoding before a long run.
 */
public final class FrameSource {

  static final int DISTINCT = 64;

  private FrameSource() {}

  /**
   * {@code count} synthetic frames of one size, encoded as {@code jpeg} or {@code png}.
   *
   * @throws IllegalArgumentException for another encoding
   */
  public static List<EncodedFrame> synthetic(int count, FrameSize size, String encoding, long seed) {
    String format = encoding.toLowerCase(Locale.ROOT);
    String type =
        switch (format) {
          case "jpeg", "jpg" -> "image/jpeg";
          case "png" -> "image/png";
          default -> throw new IllegalArgumentException("encoding must be jpeg or png: " + encoding);
        };
    SyntheticFrames generator = new SyntheticFrames(seed, List.of(size));
    List<EncodedFrame> distinct = new ArrayList<>();
    for (int i = 0; i < Math.min(count, DISTINCT); i++) {
      SyntheticFrame frame = generator.next();
      distinct.add(new EncodedFrame(frame.encode(format), type));
    }
    return repeat(distinct, count);
  }

  /**
   * {@code count} frames from the JPEG and PNG files in {@code dir} (sorted by name, repeated as
   * needed).
   *
   * @throws GapstreamException when the directory cannot be read or holds no such image
   */
  public static List<EncodedFrame> directory(Path dir, int count) {
    List<EncodedFrame> distinct = new ArrayList<>();
    try {
      List<Path> files = ImageFiles.in(dir, EnumSet.of(ImageFormat.JPEG, ImageFormat.PNG));
      for (Path file : files.subList(0, Math.min(DISTINCT, files.size()))) {
        byte[] data = Files.readAllBytes(file);
        distinct.add(new EncodedFrame(data, ImageFiles.contentType(data, file)));
      }
    } catch (IOException e) {
      throw new GapstreamException("cannot read images from " + dir + ": " + FileErrors.describe(e), e);
    }
    if (distinct.isEmpty()) {
      throw new GapstreamException(dir + " holds no .jpg, .jpeg or .png file");
    }
    return repeat(distinct, count);
  }

  /**
   * {@code count} frames, the distinct ones in turn: a view, unmodifiable, holding only them (a
   * list of {@code count} references took 400 MB, and its copy as much again, for a long {@code load}).
   */
  private static List<EncodedFrame> repeat(List<EncodedFrame> distinct, int count) {
    List<EncodedFrame> frames = List.copyOf(distinct);
    return new AbstractList<>() {
      @Override
      public EncodedFrame get(int i) {
        Objects.checkIndex(i, count);
        return frames.get(i % frames.size());
      }

      @Override
      public int size() {
        return count;
      }
    };
  }
}
