package dev.gapstream.cli;

import dev.gapstream.bench.EncodedFrame;
import dev.gapstream.bench.FrameSource;
import dev.gapstream.synth.FrameSize;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** Which frames a command sends: synthetic ones ({@code --size}, {@code --encoding}, {@code --seed}) or {@code --images}. */
final class FrameSourceOptions {

  @Option(names = "--size", defaultValue = "224x224", description = "Synthetic frame size WxH (default: ${DEFAULT-VALUE}).")
  String size;

  @Option(names = "--encoding", defaultValue = "jpeg", description = "Synthetic frame encoding: jpeg or png (default: ${DEFAULT-VALUE}).")
  String encoding;

  @Option(names = "--images", paramLabel = "DIR", description = "Use the .jpg/.png files in DIR instead of synthetic frames.")
  Path images;

  @Option(names = "--seed", defaultValue = "20261128", description = "Seed of the synthetic frames.")
  long seed;

  /** {@code count} frames: the directory's images repeated, or synthetic ones. */
  List<EncodedFrame> frames(int count) {
    return images != null
        ? FrameSource.directory(images, count)
        : FrameSource.synthetic(count, FrameSize.parse(size), encoding, seed);
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
    FrameSize sent = FrameSize.parse(size);
    boolean scaled = images == null && maxSide > 0 && Math.max(sent.width(), sent.height()) > maxSide;
    return scaled ? describe() + " scaled from " + sent + " (ingest.resize.max.side)" : describe();
  }
}
