package dev.gapstream.synth;

import dev.gapstream.FileErrors;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gapstream synth}: writes labelled synthetic frames to a directory, plus {@code labels.csv}
 * ({@code file,label,x0,y0,x1,y1,width,height}; label by name, box in pixels with exclusive upper
 * bounds). The training script and the demo read this layout.
 */
@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    description = "Write synthetic labelled frames (one shape each) and labels.csv to a directory.")
public final class SynthCommand implements Callable<Integer> {

  /** Output encodings; {@code mixed} picks PNG or JPEG per frame, seeded like the frames. */
  enum Format {
    png,
    jpeg,
    mixed
  }

  @Option(names = "--out", required = true, description = "Output directory (created if absent).")
  Path out;

  @Option(
      names = "--count",
      defaultValue = "100",
      description = "Frames to write (default ${DEFAULT-VALUE}).")
  int count;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Random seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--sizes",
      split = ",",
      paramLabel = "WxH",
      description =
          "Frame sizes WxH, comma-separated (default: the camera-like set 64x64..256x256).")
  List<FrameSize> sizes;

  @Option(
      names = "--format",
      defaultValue = "png",
      description = "png, jpeg or mixed (default ${DEFAULT-VALUE}).")
  Format format;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (count < 0) {
      throw new ParameterException(spec.commandLine(), "--count: 0 or more, got " + count);
    }
    List<FrameSize> frameSizes = sizes == null || sizes.isEmpty() ? SyntheticFrames.DEFAULT_SIZES : sizes;
    try {
      SyntheticFrames.check(frameSizes);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--sizes: " + e.getMessage());
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new ParameterException(spec.commandLine(), "--out: " + out + " exists and is not a directory");
    }
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new ParameterException(spec.commandLine(), "--out: cannot create " + out + ": " + FileErrors.why(e));
    }
    if (!Files.isWritable(out)) {
      throw new ParameterException(spec.commandLine(), "--out: " + out + " is not writable");
    }
    SyntheticFrames frames = new SyntheticFrames(seed, frameSizes);
    // A separate stream for the format choice, so --format does not change the frames themselves.
    Random formats = new Random(~seed);
    int digits = Math.max(6, String.valueOf(count).length());
    // labels.csv appears whole, once the last frame is written: a run stopped half-way left one that
    // looked like a finished data set. An earlier run's goes first, as its frames are overwritten.
    Path partial = out.resolve("labels.csv.partial");
    Files.deleteIfExists(out.resolve("labels.csv"));
    try (BufferedWriter csv = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
      csv.write("file,label,x0,y0,x1,y1,width,height\n");
      for (int i = 0; i < count; i++) {
        SyntheticFrame f = frames.next();
        String ext =
            switch (format) {
              case png -> "png";
              case jpeg -> "jpg";
              case mixed -> formats.nextBoolean() ? "png" : "jpg";
            };
        String name = String.format(Locale.ROOT, "frame-%0" + digits + "d.%s", i, ext);
        Files.write(out.resolve(name), f.encode(ext.equals("png") ? "png" : "jpeg"));
        Box b = f.box();
        csv.write(
            String.join(
                ",",
                name,
                f.labelName(),
                String.valueOf(b.x0()),
                String.valueOf(b.y0()),
                String.valueOf(b.x1()),
                String.valueOf(b.y1()),
                String.valueOf(f.width()),
                String.valueOf(f.height())));
        csv.write('\n');
      }
    }
    Files.move(partial, out.resolve("labels.csv"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    System.out.printf("synth: wrote %d frames to %s%n", count, out);
    return 0;
  }
}
