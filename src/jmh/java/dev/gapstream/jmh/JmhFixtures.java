package dev.gapstream.jmh;

import dev.gapstream.inference.ChannelOrder;
import dev.gapstream.inference.HeadKind;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.ingest.DecodeLimits;
import dev.gapstream.ingest.FrameDecoder;
import dev.gapstream.ingest.PixelBuffers;
import dev.gapstream.synth.FrameSize;
import dev.gapstream.synth.SyntheticFrames;
import java.util.List;

/** What the benchmarks share: an any-size decoder, an ImageNet-style spec, encoded test frames. */
final class JmhFixtures {

  private JmhFixtures() {}

  static FrameDecoder decoder() {
    return decoder(0);
  }

  /** A decoder that scales frames longer than {@code maxSide} down to it (0: never). */
  static FrameDecoder decoder(int maxSide) {
    // Keeps pixel arrays for reuse as the service does (ingest.pixel.pool.bytes, 64 MiB).
    return new FrameDecoder(
        new DecodeLimits(64L << 20, 1L << 26, 1, 1, 0, 0, maxSide), new PixelBuffers(64L << 20));
  }

  static ModelSpec spec() {
    return new ModelSpec(
        "bench", "1", "input", "NCHW", ChannelOrder.RGB, 255f,
        new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f},
        1, 1, 0, 0, 0, List.of("a", "b"), "logits", null, HeadKind.NONE, ModelSpec.CELL_MIDDLE);
  }

  /** One synthetic frame of {@code size} ("WxH"), encoded as {@code format} ("jpeg" or "png"). */
  static byte[] encoded(String size, String format) {
    return new SyntheticFrames(7, List.of(FrameSize.parse(size))).next().encode(format);
  }

  static String contentType(String format) {
    return format.equals("png") ? "image/png" : "image/jpeg";
  }
}
