package dev.gapstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * 6,000 seeded hostile inputs through the decoder: each must come out as pixels that match their
 * dimensions and the limits, or as a {@link FrameRejectedException} with a reason. Anything else
 * (another exception, an error, a hang) fails the test and names the input.
 */
class FrameDecoderFuzzTest {

  private static final int INPUTS = 6_000;
  private static final long SEED = 20_261_128L;
  private static final DecodeLimits LIMITS = new DecodeLimits(1 << 20, 1 << 22, 32, 32, 0, 0);

  @Test
  void everyHostileInputIsDecodedOrRejectedWithAReason() {
    FrameDecoder decoder = new FrameDecoder(LIMITS);
    FuzzFrames fuzz = new FuzzFrames(SEED);
    Map<String, Integer> outcomes = new TreeMap<>();
    long[] slowestNanos = {0};
    Assertions.assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
      for (int i = 0; i < INPUTS; i++) {
        FuzzFrames.Input in = fuzz.next();
        long start = System.nanoTime();
        String outcome = decode(decoder, in, i);
        slowestNanos[0] = Math.max(slowestNanos[0], System.nanoTime() - start);
        outcomes.merge(in.kind() + " -> " + outcome, 1, Integer::sum);
      }
    });
    System.out.printf("decoder fuzz: %d inputs, slowest %.1f ms%n", INPUTS, slowestNanos[0] / 1e6);
    outcomes.forEach((k, v) -> System.out.printf("  %-40s %5d%n", k, v));
    assertThat(outcomes.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(INPUTS);
    assertThat(outcomes.keySet()).as("the corpus exercises the rejections").anyMatch(k -> k.endsWith("too-large"));
    assertThat(outcomes.keySet()).anyMatch(k -> k.endsWith("decode-error"));
    assertThat(outcomes.keySet()).anyMatch(k -> k.endsWith("unsupported-format"));
    assertThat(outcomes.keySet()).anyMatch(k -> k.endsWith("bad-shape"));
    assertThat(outcomes.keySet()).anyMatch(k -> k.endsWith("decoded"));
  }

  private static String decode(FrameDecoder decoder, FuzzFrames.Input in, int index) {
    Integer width = parse(in.width());
    Integer height = parse(in.height());
    try {
      DecodedFrame frame = decoder.decode(in.data(), in.contentType(), width, height);
      assertThat(frame.rgb()).hasSize(3 * frame.width() * frame.height());
      assertThat((long) frame.width() * frame.height()).isLessThanOrEqualTo(LIMITS.maxPixels());
      assertThat(frame.width()).isGreaterThanOrEqualTo(LIMITS.minWidth());
      return "decoded";
    } catch (FrameRejectedException e) {
      assertThat(e.getMessage()).isNotBlank();
      return e.reason().wireName();
    } catch (Throwable t) {
      throw new AssertionError(
          String.format("input %d (%s, %d bytes, content-type %s) escaped the decoder",
              index, in.kind(), in.data().length, in.contentType()), t);
    }
  }

  /** What {@link Frame#intHeader} makes of a header value. */
  private static Integer parse(String value) {
    try {
      return value == null ? null : Integer.valueOf(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
