package dev.gapstream.jmh;

import dev.gapstream.inference.InferenceEngine;
import dev.gapstream.inference.Preprocessor;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.ingest.FrameDecoder;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-frame image work on a decode worker: decoding alone, preprocessing alone (normalising RGB
 * bytes into the batch tensor), and both, for JPEG and PNG at 224×224 and 640×480. {@code
 * maxSide} scales frames down first, as {@code ingest.resize.max.side} does (0: off; e.g. {@code -p
 * size=1920x1080 -p maxSide=0,256} for a camera frame at its own size and at the shipped model's).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecodeBenchmark {

  @Param({"jpeg", "png"})
  public String format;

  @Param({"224x224", "640x480"})
  public String size;

  @Param({"0"})
  public int maxSide;

  private FrameDecoder decoder;
  private Preprocessor preprocessor;
  private byte[] data;
  private String contentType;
  private DecodedFrame decoded;
  private FloatBuffer tensor;

  @Setup
  public void setUp() {
    decoder = JmhFixtures.decoder(maxSide);
    preprocessor = new Preprocessor(JmhFixtures.spec());
    data = JmhFixtures.encoded(size, format);
    contentType = JmhFixtures.contentType(format);
    decoded = decoder.decode(data, contentType, null, null);
    tensor = InferenceEngine.allocateBatch(Preprocessor.floatsPerImage(decoded.width(), decoded.height()));
  }

  /** Released at once, as the pipeline releases a frame once its batch has run: the array is reused. */
  @Benchmark
  public DecodedFrame decode() {
    DecodedFrame frame = decoder.decode(data, contentType, null, null);
    frame.release();
    return frame;
  }

  @Benchmark
  public FloatBuffer preprocess() {
    tensor.clear();
    preprocessor.toChw(decoded.rgb(), decoded.width(), decoded.height(), tensor);
    return tensor;
  }

  @Benchmark
  public FloatBuffer decodeAndPreprocess() {
    DecodedFrame frame = decoder.decode(data, contentType, null, null);
    tensor.clear();
    preprocessor.toChw(frame.rgb(), frame.width(), frame.height(), tensor);
    frame.release();
    return tensor;
  }
}
