package dev.gapstream.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * One ONNX Runtime session for one model. {@link #run} is blocking and must only be called from a
 * worker thread (never the event loop); it is thread-safe, since ORT sessions are, so several
 * inference workers may share one engine. {@link #close} must not race with running batches: the
 * pipeline closes the engine after draining.
 */
public final class InferenceEngine implements AutoCloseable {
  private final OrtEnvironment env;
  private final ModelSpec spec;
  private final SessionOptions options;
  private final OrtSession session;
  private final Set<String> outputs;

  private InferenceEngine(ModelSpec spec, SessionOptions options, OrtSession session) {
    this.env = OrtEnvironment.getEnvironment();
    this.spec = spec;
    this.options = options;
    this.session = session;
    Set<String> out = new LinkedHashSet<>();
    out.add(spec.logitsOutput());
    if (spec.camOutput() != null) {
      out.add(spec.camOutput());
    }
    this.outputs = Set.copyOf(out);
  }

  /**
   * Loads {@code onnxFile} and checks that it has the tensors {@code spec} names. Blocking.
   *
   * @throws ModelException when the model cannot be loaded, lacks a named tensor, or the provider
   *     is unavailable (the message then names {@code inference.provider})
   */
  public static InferenceEngine open(Path onnxFile, ModelSpec spec, EngineOptions engineOptions) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    SessionOptions opts = sessionOptions(engineOptions);
    OrtSession session = null;
    try {
      session = env.createSession(onnxFile.toString(), opts);
      checkNames(onnxFile, spec, session);
      return new InferenceEngine(spec, opts, session);
    } catch (OrtException e) {
      closeQuietly(session, opts);
      throw new ModelException(onnxFile + ": cannot load model: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(session, opts);
      throw e;
    }
  }

  /** A direct, native-order buffer for {@code floats} values: ORT reads it without copying. */
  public static FloatBuffer allocateBatch(int floats) {
    return ByteBuffer.allocateDirect(Math.multiplyExact(floats, Float.BYTES))
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  public ModelSpec spec() {
    return spec;
  }

  /**
   * Runs one batch of {@code n} preprocessed images, NCHW, read from {@code nchw} at its position
   * (the position is not changed). Pass a buffer from {@link #allocateBatch} to avoid a copy.
   *
   * @throws ModelException when the buffer is too short or ONNX Runtime fails (wrong size, etc.)
   */
  public BatchResult run(FloatBuffer nchw, int n, int height, int width) {
    int count = Math.multiplyExact(n, Preprocessor.floatsPerImage(width, height));
    if (n < 1 || nchw.remaining() < count) {
      throw new ModelException(
          "batch of "
              + n
              + " "
              + width
              + "x"
              + height
              + " needs "
              + count
              + " floats, buffer has "
              + nchw.remaining());
    }
    FloatBuffer view = nchw.duplicate();
    view.limit(view.position() + count);
    long[] shape = {n, 3, height, width};
    try (OnnxTensor input = OnnxTensor.createTensor(env, view.slice(), shape);
        OrtSession.Result result = session.run(Map.of(spec.inputName(), input), outputs)) {
      float[] logits = floats(result, spec.logitsOutput());
      int classes = logits.length / n;
      float[] cams = null;
      int camH = 0;
      int camW = 0;
      if (spec.camOutput() != null) {
        OnnxTensor cam = (OnnxTensor) result.get(spec.camOutput()).orElseThrow();
        long[] s = cam.getInfo().getShape();
        camH = (int) s[2];
        camW = (int) s[3];
        cams = floats(result, spec.camOutput());
      }
      return new BatchResult(n, classes, logits, cams, camH, camW, nonFinite(logits, n, classes));
    } catch (OrtException e) {
      throw new ModelException(
          spec.name()
              + ": inference failed on "
              + n
              + "x3x"
              + height
              + "x"
              + width
              + ": "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public void close() {
    closeQuietly(session, options);
  }

  private static float[] floats(OrtSession.Result result, String name) {
    OnnxTensor t = (OnnxTensor) result.get(name).orElseThrow();
    FloatBuffer b = t.getFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  private static boolean[] nonFinite(float[] logits, int n, int classes) {
    boolean[] bad = new boolean[n];
    for (int i = 0; i < logits.length; i++) {
      if (!Float.isFinite(logits[i])) {
        bad[i / classes] = true;
      }
    }
    return bad;
  }

  private static SessionOptions sessionOptions(EngineOptions o) {
    SessionOptions opts = new SessionOptions();
    try {
      opts.setIntraOpNumThreads(o.intraOpThreads());
      // Batches are one chain of convolutions: parallelism between operators buys nothing.
      opts.setInterOpNumThreads(1);
      opts.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
      opts.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
      opts.setMemoryPatternOptimization(true);
      opts.setCPUArenaAllocator(true);
      if (o.provider() == EngineOptions.Provider.CUDA) {
        addCuda(opts);
      }
      return opts;
    } catch (OrtException e) {
      opts.close();
      throw new ModelException("cannot configure the ONNX Runtime session: " + e.getMessage(), e);
    }
  }

  private static void addCuda(SessionOptions opts) throws OrtException {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      opts.close();
      throw new ModelException(
          "inference.provider=cuda: this ONNX Runtime build has no CUDA provider"
              + " (build with -Pcuda and run on a machine with a CUDA GPU)");
    }
    try {
      opts.addCUDA(0);
    } catch (OrtException e) {
      opts.close();
      throw new ModelException(
          "inference.provider=cuda: cannot start the CUDA provider: " + e.getMessage(), e);
    }
  }

  private static void checkNames(Path file, ModelSpec spec, OrtSession session)
      throws OrtException {
    if (!session.getInputNames().contains(spec.inputName())) {
      throw new ModelException(
          file + ": no input '" + spec.inputName() + "' (inputs: " + session.getInputNames() + ")");
    }
    for (String out : new String[] {spec.logitsOutput(), spec.camOutput()}) {
      if (out != null && !session.getOutputNames().contains(out)) {
        throw new ModelException(
            file + ": no output '" + out + "' (outputs: " + session.getOutputNames() + ")");
      }
    }
  }

  private static void closeQuietly(OrtSession session, SessionOptions opts) {
    try {
      if (session != null) {
        session.close();
      }
    } catch (OrtException e) {
      // Closing during shutdown: nothing useful to do with a failure here.
    } finally {
      opts.close();
    }
  }
}
