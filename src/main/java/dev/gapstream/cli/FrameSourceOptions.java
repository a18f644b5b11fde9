package dev.gapstream.cli;

import dev.gapstream.bench.EncodedFrame;
import dev.gapstream.bench.FrameSource;
import dev.gapstream.synth.FrameSize;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import dev.gapstream.synth.SyntheticFrames;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** Which frames a command sends: synthetic ones ({@code --size}, {@code --encoding}, {@code --seed}) or {@code --images}. */
final class FrameSourceOptions {

  @Option(names = "--size", defaultValue = "224x224", description = "Synthetic frame size WxH (default: ${DEFAULT-VALUE}).")
  FrameSize size;

  @Option(
      names = "--encoding",
      defaultValue = "jpeg",
      converter = EncodingConverter.class,
      description = "Synthetic frame encoding: jpeg or png (default: ${DEFAULT-VALUE}).")
  String encoding;

  @Option(names = "--images", paramLabel = "DIR", description = "Use the .jpg/.png files in DIR instead of synthetic frames.")
  Path images;

  @Option(names = "--seed", defaultValue = "20261128", description = "Seed of the synthetic frames.")
  long seed;

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  /**
   * {@code count} frames: the directory's images repeated, or synthetic ones.
   *
   * @throws ParameterException naming {@code --size} for synthetic frames too small to draw
   */
  List<EncodedFrame> frames(int count) {
    if (images != null) {
      return FrameSource.directory(images, count);
    }
    try {
      SyntheticFrames.check(List.of(size));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), "--size: " + e.getMessage());
    }
    return FrameSource.synthetic(count, size, encoding, seed);
  }

  /** Where the frames come from, for a report. */
  String describe() {
    return images != null ? "from " + images : "synthetic " + encoding;
  }

  /**
   * As {@link #describe()}, and for synthetic frames longer than {@code maxSide} (where it is above
   * 0) the size they are sent at: the report gives the size they are classified at.
   */
  String describe(int maxSide) {
    boolean scaled = images == null && maxSide > 0 && Math.max(size.width(), size.height()) > maxSide;
    return scaled ? describe() + " scaled from " + size + " (ingest.resize.max.side)" : describe();
  }

  /** {@code --encoding}, checked when the command line is parsed: a usage error naming the option. */
  static final class EncodingConverter implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String encoding = value.toLowerCase(Locale.ROOT);
      if (!List.of("jpeg", "jpg", "png").contains(encoding)) {
        throw new TypeConversionException("jpeg or png, not " + value);
      }
      return encoding;
    }
  }
}
