package dev.gapstream.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime session for one model. {@link #run} is blocking and must only be called from a
 * worker thread (never the event loop); it is thread-safe, since ORT sessions are, so several
 * inference workers may share one engine. {@link #close} waits for the batches running on it
 * (a graceful stop that timed out can leave one behind), so the session is never freed under a run.
 *
 * <p>Class activation maps follow the model's {@link CamPlan}: a class-map output is fetched as it
 * is; for a GAP→linear head the graph is rewritten in memory at load (the file is left untouched)
 * so the pre-GAP features are an output too, and the linear layer's weights are read once, so
 * every {@link BatchResult} can compute any class's map. A model without a GAP head runs without
 * CAMs, which {@link #open} logs once as a warning.
 */
public final class InferenceEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceEngine.class);
  /** How long {@link #close} waits for running batches; one takes seconds at most. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  /** The output types ONNX Runtime gives a float view of ({@code getFloatBuffer}). */
  private static final Set<OnnxJavaType> FLOAT_OUTPUTS =
      EnumSet.of(OnnxJavaType.FLOAT, OnnxJavaType.FLOAT16, OnnxJavaType.BFLOAT16);
  /** The CAM stride probe's smaller input side and the step to its larger one, in pixels. */
  private static final int PROBE_STEP = 128;
  // ONNX Runtime's session option for where a model loaded from bytes finds its external data.
  private static final String EXTERNAL_DATA_FOLDER =
      "session.model_external_initializers_file_folder_path";

  private final OrtEnvironment env;
  private final ModelSpec spec;
  private final SessionOptions options;
  private final OrtSession session;
  private final CamPlan camPlan;
  /** [classes][K] for {@link CamPlan.Kind#FEATURES}, else null. Never written after load. */
  private final float[][] classWeights;
  private final Set<String> outputs;
  /** The most images a batch may hold: 1 where the graph fixes its batch dimension at 1. */
  private final int maxBatch;
  /**
   * Pixels per CAM cell {x, y}, measured at load; null where not measured (no CAMs, a fixed input
   * size, a stride that two sizes did not tell): maps are then taken to tile the frame.
   */
  private final int[] camStride;
  /**
   * Whether the logits output holds a Softmax's probabilities ({@link ModelSpec#readsProbabilities}),
   * each run turning them into log-probabilities, whose softmax they are.
   */
  private final boolean probabilities;
  /** Runs hold it shared, {@link #close} whole. */
  private final ReentrantReadWriteLock runs = new ReentrantReadWriteLock();
  private volatile boolean closed;

  private InferenceEngine(
      ModelSpec spec,
      SessionOptions options,
      OrtSession session,
      CamPlan camPlan,
      float[][] classWeights,
      int maxBatch,
      int[] camStride,
      boolean probabilities) {
    this.env = OrtEnvironment.getEnvironment();
    this.probabilities = probabilities;
    this.maxBatch = maxBatch;
    this.camStride = camStride;
    this.spec = spec;
    this.options = options;
    this.session = session;
    this.camPlan = camPlan;
    this.classWeights = classWeights;
    Set<String> out = new LinkedHashSet<>();
    out.add(spec.logitsOutput());
    if (camPlan.tensor() != null) {
      out.add(camPlan.tensor());
    }
    this.outputs = Set.copyOf(out);
  }

  /**
   * Loads {@code onnxFile} and checks that it has the tensors {@code spec} names. Blocking. The
   * file is only read; a rewritten copy of the graph lives in memory when CAMs need one.
   *
   * @throws ModelException when the model cannot be loaded, lacks a named tensor, or the provider
   *     is unavailable (the message then names {@code inference.provider})
   */
  public static InferenceEngine open(Path onnxFile, ModelSpec spec, EngineOptions engineOptions) {
    OnnxGraph graph = OnnxGraph.read(onnxFile);
    CamPlan modelPlan = CamPlan.of(graph, spec);
    CamPlan plan = engineOptions.cams() ? modelPlan : modelPlan.off();
    float[][] weights = plan.kind() == CamPlan.Kind.FEATURES ? weights(graph, plan) : null;
    if (plan.kind() == CamPlan.Kind.FEATURES && weights == null) {
      plan = plan.off();
    }
    logCamPlan(onnxFile, plan, engineOptions.cams());
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    SessionOptions opts = sessionOptions(engineOptions);
    OrtSession session = null;
    try {
      List<String> extra = new ArrayList<>();
      if (isInner(graph, spec.logitsOutput())) {
        extra.add(spec.logitsOutput()); // the scores before the graph's own Softmax
      }
      if (plan.needsExtraOutput(graph) && !extra.contains(plan.tensor())) {
        extra.add(plan.tensor());
      }
      session =
          extra.isEmpty()
              ? env.createSession(onnxFile.toString(), opts)
              : createSession(env, graph, extra, opts);
      checkNames(onnxFile, spec, session);
      // The model's own plan: a declared class-map output (model.json's camOutput) that does not
      // fit fails the load with CAMs off too, not only on the day they are turned on. A tensor
      // found from the head is no output with CAMs off, and is checked when they are on.
      checkShapes(onnxFile, spec, session, modelPlan);
      boolean probabilities = ModelSpec.readsProbabilities(graph, spec.logitsOutput());
      if (probabilities) {
        LOG.info("{}: output '{}' is a Softmax's probabilities, cast from another type; read as such",
            onnxFile, spec.logitsOutput());
      }
      return new InferenceEngine(
          spec, opts, session, plan, weights, maxBatch(onnxFile, spec, session), camStride(onnxFile, spec, session, plan),
          probabilities);
    } catch (OrtException e) {
      closeQuietly(session, opts);
      throw new ModelException(onnxFile + ": cannot load model: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(session, opts);
      throw e;
    }
  }

  /**
   * How many pixels of the input one cell of the CAM grid stands for, {x, y}: the difference of its
   * size at two input sizes 128 apart (a multiple of any power-of-two stride up to 128) divided
   * into 128. The sizes are as small as the model takes (128 and 256 pixels for most) because the
   * probe runs on the serving session: ONNX Runtime's arena keeps what its largest run needed, and
   * a batch of two 224×224 frames needs more than one 256×256 input.
   * Where a frame's size is not a multiple of that stride, padded strided convolutions round the
   * grid up, and its last cell reaches past the frame's edge: the grid spans more than the frame,
   * and peaks and boxes placed as fractions of the grid alone fall short of where they are (up to a
   * cell). That holds for frames resized to a spec's fixedSize too, where the graph takes any size
   * (250x170 frames made 32x22 cells, covering 256x176). A graph fixed at one input size runs at
   * that size only: its stride is the power of two whose padded convolutions give the grid it has
   * there (10 cells over 300 pixels: 32); before, such a graph's maps were taken to tile the frame,
   * peaks 6% short at 300 pixels, and placed otherwise than the same net exported with dynamic axes.
   * Null where there is nothing to measure (no CAMs) or the sizes do not tell (logged).
   */
  private static int[] camStride(Path onnxFile, ModelSpec spec, OrtSession session, CamPlan plan)
      throws OrtException {
    long[] input = shape(session.getInputInfo().get(spec.inputName()));
    if (plan.kind() == CamPlan.Kind.NONE) {
      return null;
    }
    try {
      return input != null && input.length == 4 && input[2] > 0 && input[3] > 0
          ? fixedStride(onnxFile, spec, session, plan, (int) input[3], (int) input[2])
          : probedStride(onnxFile, spec, session, plan);
    } catch (OrtException | RuntimeException e) {
      LOG.info(
          "{}: the CAM grid's stride could not be measured ({}): peaks and boxes are placed as if it"
              + " tiled each frame",
          onnxFile, e.toString());
      return null;
    }
  }

  /** {@link #camStride} of a graph that takes any size, from its grid's growth between two. */
  private static int[] probedStride(Path onnxFile, ModelSpec spec, OrtSession session, CamPlan plan)
      throws OrtException {
    int small = Math.max(PROBE_STEP, roundUp(Math.max(spec.minWidth(), spec.minHeight()), 64));
    int large = small + PROBE_STEP;
    long[] a = probeShape(session, spec, plan, small, small);
    long[] b = probeShape(session, spec, plan, large, large);
    long dx = b[3] - a[3];
    long dy = b[2] - a[2];
    if (dx <= 0 || dy <= 0 || PROBE_STEP % dx != 0 || PROBE_STEP % dy != 0) {
      LOG.info(
          "{}: the CAM grid grows by {}x{} cells from {} to {} pixels, no whole stride: peaks and boxes"
              + " are placed as if it tiled each frame",
          onnxFile, dx, dy, small, large);
      return null;
    }
    int[] stride = {(int) (PROBE_STEP / dx), (int) (PROBE_STEP / dy)};
    LOG.info("{}: one CAM cell per {}x{} pixels", onnxFile, stride[0], stride[1]);
    return stride;
  }

  /** {@link #camStride} of a graph fixed at {@code width}×{@code height}, from its grid there. */
  private static int[] fixedStride(
      Path onnxFile, ModelSpec spec, OrtSession session, CamPlan plan, int width, int height) throws OrtException {
    long[] grid = probeShape(session, spec, plan, width, height);
    int sx = powerOfTwoStride(width, grid[3]);
    int sy = powerOfTwoStride(height, grid[2]);
    if (sx == 0 || sy == 0) {
      LOG.info(
          "{}: a CAM grid of {}x{} cells at the graph's fixed {}x{} pixels tells no power-of-two stride:"
              + " peaks and boxes are placed as if it tiled each frame",
          onnxFile, grid[3], grid[2], width, height);
      return null;
    }
    LOG.info("{}: one CAM cell per {}x{} pixels ({}x{} cells at the graph's fixed {}x{})",
        onnxFile, sx, sy, grid[3], grid[2], width, height);
    return new int[] {sx, sy};
  }

  /**
   * The power of two {@code s} for which padded strided convolutions make {@code cells} of {@code
   * size} pixels (⌈size / s⌉ = cells), or 0 where none does, or one cell leaves it open.
   */
  static int powerOfTwoStride(int size, long cells) {
    if (cells < 2) {
      return 0;
    }
    for (int s = 1; s < size; s <<= 1) {
      if ((size + s - 1) / s == cells) {
        return s;
      }
    }
    return 0;
  }

  /** The CAM tensor's shape for one blank {@code width}×{@code height} image. */
  private static long[] probeShape(OrtSession session, ModelSpec spec, CamPlan plan, int width, int height)
      throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] shape = {1, 3, height, width};
    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.allocate(3 * width * height), shape);
        OrtSession.Result r = session.run(Map.of(spec.inputName(), in), Set.of(plan.tensor()))) {
      long[] s = ((OnnxTensor) r.get(0)).getInfo().getShape();
      if (s.length != 4) {
        throw new ModelException("CAM tensor '" + plan.tensor() + "' is not 4-D NCHW");
      }
      return s;
    }
  }

  private static int roundUp(int value, int multiple) {
    return (value + multiple - 1) / multiple * multiple;
  }

  /** A tensor a node of the graph computes that is not one of its outputs. */
  private static boolean isInner(OnnxGraph graph, String tensor) {
    return graph.producer(tensor).isPresent() && graph.outputs().stream().noneMatch(o -> o.name().equals(tensor));
  }

  /**
   * A session on {@code graph} with {@code extraOutputs} added, made from the rewritten graph's
   * bytes. Where the weights are stored outside the graph, {@code opts} is pointed at their
   * directory (the rewritten graph has no file for ONNX Runtime to look beside).
   */
  static OrtSession createSession(
      OrtEnvironment env, OnnxGraph graph, List<String> extraOutputs, SessionOptions opts)
      throws OrtException {
    Optional<Path> data = graph.externalDataDirectory();
    if (data.isPresent()) {
      opts.addConfigEntry(EXTERNAL_DATA_FOLDER, data.get().toString());
    }
    return env.createSession(graph.withOutputs(extraOutputs), opts);
  }

  /** The classifier's weights, or null (logged) when they are not usable for CAMs. */
  private static float[][] weights(OnnxGraph graph, CamPlan plan) {
    try {
      return plan.head().classWeights(graph);
    } catch (ModelException e) {
      LOG.warn("{}; running without class activation maps", e.getMessage());
      return null;
    }
  }

  private static void logCamPlan(Path onnxFile, CamPlan plan, boolean wanted) {
    if (!wanted) {
      LOG.info("{}: class activation maps off (cam.enabled=false)", onnxFile);
    } else if (plan.kind() == CamPlan.Kind.NONE) {
      LOG.warn(
          "{}: no global-average-pooling head, so predictions carry no class activation maps",
          onnxFile);
    } else {
      LOG.info("{}: cam: {}", onnxFile, plan.describe());
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
   * The most images one batch may hold: 1 for a graph exported with its batch dimension fixed at 1
   * (PyTorch's export without a dynamic batch axis), else unbounded.
   */
  public int maxBatch() {
    return maxBatch;
  }

  /** Where this engine's class activation maps come from. */
  public CamPlan camPlan() {
    return camPlan;
  }

  /**
   * The model's head as its graph shows it, else as its spec says: the graph decides where it
   * tells, as a model.json that gives no {@code head} says "none" of a GAP head.
   */
  public HeadKind head() {
    HeadKind found = camPlan.head().kind();
    return found != HeadKind.NONE ? found : spec.head();
  }

  /** Pixels per CAM cell {x, y} as measured at load (a copy), or null where not measured. */
  public int[] camStride() {
    return camStride == null ? null : camStride.clone();
  }

  /**
   * Runs one batch of {@code n} preprocessed images, NCHW, read from {@code nchw} at its position
   * (the position is not changed). Pass a buffer from {@link #allocateBatch} to avoid a copy.
   *
   * @throws ModelException when the buffer is too short or ONNX Runtime fails (wrong size, etc.)
   */
  /**
   * Runs blank batches of the given sizes at one input size, so that the first real frames do not
   * pay for ONNX Runtime's first runs (thread pools, arena growth, kernel selection) and the JIT.
   * Blocking; call before taking traffic.
   */
  public void warmUp(int width, int height, int... batchSizes) {
    for (int n : batchSizes) {
      FloatBuffer blank = allocateBatch(n * 3 * width * height);
      run(blank, n, height, width);
    }
  }

  /**
   * Runs one batch of {@code n} images, NCHW from the buffer's position. Blocking.
   *
   * @throws ModelException when ONNX Runtime fails, or the engine is closed
   */
  public BatchResult run(FloatBuffer nchw, int n, int height, int width) {
    Lock shared = runs.readLock();
    shared.lock();
    try {
      if (closed) {
        throw new ModelException(spec.name() + ": the model is closed (the service is stopping)");
      }
      return runOpen(nchw, n, height, width);
    } finally {
      shared.unlock();
    }
  }

  /** The outputs each run fetches: the logits, and what CAMs are made from where there are any. */
  Set<String> fetched() {
    return outputs;
  }

  /** Batches running now. */
  int running() {
    return runs.getReadLockCount();
  }

  private BatchResult runOpen(FloatBuffer nchw, int n, int height, int width) {
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
      return toBatchResult(result, n, height, width);
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

  private BatchResult toBatchResult(OrtSession.Result result, int n, int height, int width) {
    float[] logits = floats(result, spec.logitsOutput());
    if (probabilities) {
      toLogProbabilities(logits);
    }
    // A bare model whose graph leaves its class count open has no labels to hold it to.
    int classes = spec.labels().isEmpty() ? logits.length / n : spec.labels().size();
    if (logits.length != n * classes) {
      // Where the graph leaves the class dimension open, only a run tells: the logits taken for
      // another output (a class-map tensor: a "class" per cell, changing with the frame size).
      throw new ModelException(spec.name() + ": output '" + spec.logitsOutput() + "' has "
          + Arrays.toString(shape(result, spec.logitsOutput())) + " for a batch of " + n + ", not " + n + " x "
          + classes + " classes (the model's labels)");
    }
    boolean[] bad = nonFinite(logits, n, classes);
    if (camPlan.kind() == CamPlan.Kind.NONE) {
      return new BatchResult(n, classes, logits, null, 0, 0, bad);
    }
    OnnxTensor cam = (OnnxTensor) result.get(camPlan.tensor()).orElseThrow();
    long[] s = cam.getInfo().getShape();
    if (s.length != 4 || s[0] != n) {
      throw new ModelException(spec.name() + ": CAM tensor '" + camPlan.tensor() + "' has shape "
          + Arrays.toString(s) + " for a batch of " + n + "; it must be 4-D NCHW, one map set per frame");
    }
    if (camPlan.kind() == CamPlan.Kind.CLASS_MAPS && s[1] != classes) {
      throw new ModelException(spec.name() + ": class-map tensor '" + camPlan.tensor() + "' has shape "
          + Arrays.toString(s) + ", " + s[1] + " maps for " + classes + " classes; class maps are NCHW, one per class");
    }
    int h = (int) s[2];
    int w = (int) s[3];
    float[] values = floats(result, camPlan.tensor());
    float spanX = camStride == null ? 1f : (float) w * camStride[0] / width;
    float spanY = camStride == null ? 1f : (float) h * camStride[1] / height;
    if (camPlan.kind() == CamPlan.Kind.CLASS_MAPS) {
      return new BatchResult(n, classes, logits, values, h, w, bad, null, spanX, spanY);
    }
    CamFeatures features = new CamFeatures(values, (int) s[1], h, w, classWeights);
    return new BatchResult(n, classes, logits, null, h, w, bad, features, spanX, spanY);
  }

  /**
   * Frees the session once the batches running on it have finished, waiting at most {@link
   * #CLOSE_WAIT}; past that it leaves the session to the process's exit rather than free it under a
   * running batch. Later runs fail with a {@link ModelException}.
   */
  @Override
  public void close() {
    Lock whole = runs.writeLock();
    try {
      if (!whole.tryLock(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("{}: a batch still running after {} s; the model is left open for the process's exit",
            spec.name(), CLOSE_WAIT.toSeconds());
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    try {
      if (!closed) {
        closed = true;
        closeQuietly(session, options);
      }
    } finally {
      whole.unlock();
    }
  }

  /**
   * An output's values. ONNX Runtime's {@code getFloatBuffer} already copies the native tensor
   * into a new heap buffer; its array is taken as it is rather than copied a second time.
   */
  private static float[] floats(OrtSession.Result result, String name) {
    OnnxTensor t = (OnnxTensor) result.get(name).orElseThrow();
    FloatBuffer b = t.getFloatBuffer();
    if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.remaining() == b.array().length) {
      return b.array();
    }
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  /**
   * The log of each probability, in place: the softmax of log-probabilities is the probabilities.
   * One that underflowed to 0 (float16 holds nothing under 6e-8) takes the log of the smallest
   * normal float instead, finite as logits must be; NaN stays NaN.
   */
  private static void toLogProbabilities(float[] p) {
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) Math.log(Math.max(p[i], Float.MIN_NORMAL));
    }
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

  /** The options every session of this engine is opened with; package-private for CudaEngineTest. */
  static SessionOptions sessionOptions(EngineOptions o) {
    SessionOptions opts = new SessionOptions();
    try {
      opts.setIntraOpNumThreads(o.intraOpThreads());
      // Batches are one chain of convolutions: parallelism between operators buys nothing.
      opts.setInterOpNumThreads(1);
      opts.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
      opts.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
      // Memory patterns are planned per input shape, and a GAP model sees many (every batch size
      // times every frame size): each new one paid a slow first run. Measured with demo --rate 150
      // over 9 frame sizes: p50 36 -> 26 ms, p99 1630 -> 1309 ms without them.
      opts.setMemoryPatternOptimization(false);
      opts.setCPUArenaAllocator(true);
      // Explicit so that bench --compare-spin-wait can measure both; see EngineOptions.
      opts.addConfigEntry("session.intra_op.allow_spinning", o.spinWait() ? "1" : "0");
      if (o.provider() == EngineOptions.Provider.CUDA) {
        addCuda(opts);
      }
      return opts;
    } catch (OrtException e) {
      opts.close();
      throw new ModelException("cannot configure the ONNX Runtime session: " + e.getMessage(), e);
    }
  }

  /**
   * Fails naming {@code inference.provider} where this ONNX Runtime build lacks the provider: a
   * check without a session, for a start to make before anything else (and {@code config}).
   */
  public static void checkProvider(EngineOptions.Provider provider) {
    if (provider == EngineOptions.Provider.CUDA && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      throw new ModelException(
          "inference.provider=cuda: this ONNX Runtime build has no CUDA provider"
              + " (build with -Pcuda and run on a machine with a CUDA GPU)");
    }
  }

  private static void addCuda(SessionOptions opts) throws OrtException {
    try {
      checkProvider(EngineOptions.Provider.CUDA);
    } catch (ModelException e) {
      opts.close();
      throw e;
    }
    try {
      opts.addCUDA(0);
    } catch (OrtException e) {
      opts.close();
      String version = OrtEnvironment.getEnvironment().getVersion();
      throw new ModelException(
          "inference.provider=cuda: cannot start the CUDA provider: " + e.getMessage()
              + ". ONNX Runtime " + version + "'s CUDA provider needs an NVIDIA driver, CUDA 12's"
              + " libraries (libcudart.so.12: 12.9's runs it, 12.5's lacks functions it calls;"
              + " libcublas.so.12, libcublasLt.so.12, libcurand.so.10) and cuDNN 9's"
              + " (libcudnn.so.9) where the loader finds them (LD_LIBRARY_PATH); ONNX Runtime's log"
              + " line above names the one it could not load",
          e);
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

  /**
   * The logits' class count against the labels, and a class-map tensor against the logits, where
   * the graph fixes them: labels one short (a background class at 0) would name every prediction
   * after its neighbour, and maps of another layout or count would put every CAM in the wrong
   * place; both silently.
   */
  private static void checkShapes(Path file, ModelSpec spec, OrtSession session, CamPlan plan)
      throws OrtException {
    checkFloats(file, session, spec.logitsOutput(), "output");
    if (plan.kind() != CamPlan.Kind.NONE) {
      checkFloats(file, session, plan.tensor(), plan.kind() == CamPlan.Kind.CLASS_MAPS ? "class-map tensor" : "feature tensor");
    }
    long[] logits = shape(session, spec.logitsOutput());
    if (logits != null && !(logits.length == 2 || logits.length == 4 && logits[2] == 1 && logits[3] == 1)) {
      throw new ModelException(
          file + ": output '" + spec.logitsOutput() + "' has shape " + Arrays.toString(logits) + "; logits are"
              + " [batch, classes] (or [batch, classes, 1, 1]): is it the class-map or feature tensor?"
              + " (model.json 'outputs')");
    }
    long classes = logits != null && logits.length >= 2 ? logits[1] : -1;
    if (classes == 1) {
      throw new ModelException(
          file + ": output '" + spec.logitsOutput() + "' has one class, whose softmax scores every frame 1.0;"
              + " export a binary classifier with two outputs (e.g. defect, no defect)");
    }
    if (classes > 0 && spec.labels().size() != classes) {
      throw new ModelException(
          file + ": output '" + spec.logitsOutput() + "' has " + classes + " classes, and the model's labels are "
              + spec.labels().size() + " (model.json 'labels'): each class needs its label, in order");
    }
    if (plan.kind() != CamPlan.Kind.CLASS_MAPS) {
      return;
    }
    long[] maps = shape(session, plan.tensor());
    if (maps == null) {
      return;
    }
    if (maps.length != 4) {
      throw new ModelException(
          file + ": class-map tensor '" + plan.tensor() + "' has shape " + Arrays.toString(maps)
              + "; class maps are 4-D, NCHW: [batch, classes, height, width]");
    }
    if (classes > 0 && maps[1] > 0 && maps[1] != classes) {
      throw new ModelException(
          file + ": class-map tensor '" + plan.tensor() + "' has shape " + Arrays.toString(maps) + ", " + maps[1]
              + " maps for " + classes + " classes; class maps are NCHW, one per class"
              + " (an NHWC tensor needs a Transpose to NCHW in the graph)");
    }
  }

  /**
   * The input's batch bound, after checking what gapstream feeds it, NCHW with 3 channels at the
   * spec's size, where the graph fixes those dimensions: a mismatch failed every batch with ONNX
   * Runtime's "Got: 16 Expected: 1", or at start-up in the calibration, without saying what to
   * change. A graph fixed at 224x224 under a spec with no fixedSize passed the warm-up (at 224) and
   * then failed every frame of another size.
   */
  private static int maxBatch(Path file, ModelSpec spec, OrtSession session) throws OrtException {
    NodeInfo info = session.getInputInfo().get(spec.inputName());
    if (info.getInfo() instanceof TensorInfo t && t.type != OnnxJavaType.FLOAT) {
      // Before, the load passed, and the warm-up failed in ONNX Runtime's words.
      throw new ModelException(file + ": input '" + spec.inputName() + "' takes " + t.type + " values; gapstream"
          + " feeds float32, scaled and normalised as " + ModelSpec.DESCRIPTOR + " says (pixelScale, mean, std):"
          + " export the model with a float32 input");
    }
    long[] shape = shape(info);
    if (shape == null) {
      return Integer.MAX_VALUE;
    }
    String input = file + ": input '" + spec.inputName() + "' has shape " + Arrays.toString(shape);
    if (shape.length != 4) {
      throw new ModelException(input + "; gapstream feeds images as 4-D NCHW: [batch, 3, height, width]");
    }
    if (shape[3] == 3 && shape[1] != 3) {
      throw new ModelException(input + ", channels last (NHWC, as TensorFlow and Keras export); gapstream feeds"
          + " NCHW: [batch, 3, height, width]. Re-export it channels first (tf2onnx: --inputs-as-nchw "
          + spec.inputName() + ")");
    }
    if (shape[1] > 0 && shape[1] != 3) {
      throw new ModelException(input + ": " + shape[1] + " channels; gapstream feeds 3 (RGB or BGR, NCHW)");
    }
    long height = shape[2];
    long width = shape[3];
    if ((width > 0 || height > 0) && !spec.isFixedSize()) {
      throw new ModelException(input + ", a fixed image size, but " + ModelSpec.DESCRIPTOR + " gives no fixedSize:"
          + " frames would run at their own size and fail; set \"fixedSize\": {\"width\": " + width
          + ", \"height\": " + height + "}, or export the model with dynamic height and width");
    }
    if ((width > 0 && width != spec.fixedWidth()) || (height > 0 && height != spec.fixedHeight())) {
      throw new ModelException(input + ", but " + ModelSpec.DESCRIPTOR + " gives a fixedSize of "
          + spec.fixedWidth() + "x" + spec.fixedHeight() + " (width x height): frames would be resized to it and"
          + " fail; make them agree");
    }
    if (shape[0] > 1) {
      throw new ModelException(input + ", a batch fixed at " + shape[0] + "; gapstream runs batches of 1 up to"
          + " batch.max.size: export it with a dynamic batch dimension (PyTorch: dynamic_axes={'"
          + spec.inputName() + "': {0: 'batch'}}), or with a batch of 1");
    }
    return shape[0] == 1 ? 1 : Integer.MAX_VALUE;
  }

  /**
   * Refuses an output gapstream reads as floats that holds another type: a model whose logits
   * were double (a Cast at its end) loaded, and then every run failed with a bare
   * NullPointerException, ONNX Runtime having no float view of them.
   */
  private static void checkFloats(Path file, OrtSession session, String output, String what) throws OrtException {
    NodeInfo info = session.getOutputInfo().get(output);
    if (info != null && info.getInfo() instanceof TensorInfo t && !FLOAT_OUTPUTS.contains(t.type)) {
      throw new ModelException(file + ": " + what + " '" + output + "' holds " + t.type + " values; gapstream"
          + " reads float32 (or float16, bfloat16): export it without the Cast to " + t.type);
    }
  }

  /** The shape the graph gives {@code output} (-1 where it is dynamic), or null when it gives none. */
  private static long[] shape(OrtSession session, String output) throws OrtException {
    return shape(session.getOutputInfo().get(output));
  }

  private static long[] shape(OrtSession.Result result, String output) {
    return ((OnnxTensor) result.get(output).orElseThrow()).getInfo().getShape();
  }

  /** A tensor's shape (-1 where it is dynamic), or null for a missing or non-tensor value. */
  private static long[] shape(NodeInfo info) {
    return info != null && info.getInfo() instanceof ai.onnxruntime.TensorInfo t ? t.getShape() : null;
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
