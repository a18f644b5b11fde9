package dev.gapstream.inference;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The parsed graph of an ONNX model: what ONNX Runtime's Java API does not show (nodes,
 * initializers, opset). Built once from the file; immutable and safe to share between threads.
 * Lookups by tensor name return empty results, never null, for names the graph does not have.
 */
public final class OnnxGraph {
  private static final Set<Integer> PARAMETER_TYPES =
      Set.of(
          DataType.FLOAT_VALUE,
          DataType.FLOAT16_VALUE,
          DataType.DOUBLE_VALUE,
          DataType.BFLOAT16_VALUE);

  private final String source;
  private final Path directory; // where external data is looked up; null for a graph from bytes
  private final ModelProto model;
  private final Map<String, TensorProto> initializers = new HashMap<>();
  private final Map<String, NodeProto> producers = new HashMap<>();
  private final Map<String, List<NodeProto>> consumers = new HashMap<>();

  private OnnxGraph(String source, Path directory, ModelProto model) {
    this.source = source;
    this.directory = directory;
    this.model = model;
    GraphProto g = model.getGraph();
    g.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    for (NodeProto n : g.getNodeList()) {
      n.getOutputList().forEach(o -> producers.put(o, n));
      for (String in : n.getInputList()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
  }

  /**
   * Reads and parses an ONNX file.
   *
   * @throws ModelException naming the path when it is missing, unreadable or not an ONNX model
   */
  public static OnnxGraph read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ModelException(file + ": no such model file");
    } catch (IOException e) {
      throw new ModelException(file + ": cannot read model file: " + e.getMessage(), e);
    }
    return parse(bytes, file.toString(), file.toAbsolutePath().getParent());
  }

  /**
   * Parses an ONNX model held in memory; {@code source} names it in error messages.
   *
   * @throws ModelException when the bytes are not an ONNX model with a graph
   */
  public static OnnxGraph parse(byte[] bytes, String source) {
    return parse(bytes, source, null);
  }

  private static OnnxGraph parse(byte[] bytes, String source, Path directory) {
    ModelProto m;
    try {
      m = ModelProto.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ModelException(source + ": not an ONNX model (" + e.getMessage() + ")", e);
    }
    // Protobuf accepts many byte strings as a message of unknown fields; a real model has these.
    GraphProto g = m.getGraph();
    if (m.getIrVersion() <= 0 || g.getNodeCount() == 0 || g.getOutputCount() == 0) {
      throw new ModelException(source + ": not an ONNX model (no graph found)");
    }
    return new OnnxGraph(source, directory, m);
  }

  /** The file (or label) this graph was read from. */
  public String source() {
    return source;
  }

  /**
   * The directory that holds the model's external data (weights saved beside the graph, as models
   * over 2 GB must be and exporters may choose to), or empty when every initializer is stored in
   * the graph. A session made from {@link #withOutputs} bytes must be told where to look: ONNX
   * Runtime resolves the data's location against the working directory otherwise.
   */
  public Optional<Path> externalDataDirectory() {
    boolean external =
        initializers.values().stream()
            .anyMatch(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL);
    return external && directory != null ? Optional.of(directory) : Optional.empty();
  }

  /** The underlying protobuf message, for rewriting. */
  public ModelProto proto() {
    return model;
  }

  /** Graph inputs that are fed at run time (initializers listed as inputs are left out). */
  public List<TensorInfo> inputs() {
    List<TensorInfo> out = new ArrayList<>();
    for (ValueInfoProto v : model.getGraph().getInputList()) {
      if (!initializers.containsKey(v.getName())) {
        out.add(info(v));
      }
    }
    return out;
  }

  /** The graph's declared outputs, in order. */
  public List<TensorInfo> outputs() {
    return model.getGraph().getOutputList().stream().map(OnnxGraph::info).toList();
  }

  /** The default-domain opset the model was exported for, or 0 when it declares none. */
  public int opset() {
    for (OperatorSetIdProto o : model.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        return (int) o.getVersion();
      }
    }
    return 0;
  }

  public int nodeCount() {
    return model.getGraph().getNodeCount();
  }

  public List<NodeProto> nodes() {
    return model.getGraph().getNodeList();
  }

  /** The node that computes {@code tensor}; empty for graph inputs and initializers. */
  public Optional<NodeProto> producer(String tensor) {
    return Optional.ofNullable(producers.get(tensor));
  }

  /** The nodes that read {@code tensor}, in graph order. */
  public List<NodeProto> consumers(String tensor) {
    return consumers.getOrDefault(tensor, List.of());
  }

  public boolean isInitializer(String name) {
    return initializers.containsKey(name);
  }

  /**
   * Learned parameters as the layers use them: for each node, the elements of the floating-point
   * initializers it reads. Exporters store equal-valued tensors once (torch shares the zero biases
   * of freshly initialised or BN-folded convolutions), so this counts a shared tensor once per
   * layer, which is what the architecture has and what PyTorch reports.
   */
  public long parameterCount() {
    return parameterCount(nodes());
  }

  /** Parameters read by {@code nodesToCount}, counted per node as in {@link #parameterCount()}. */
  public long parameterCount(Collection<NodeProto> nodesToCount) {
    long n = 0;
    for (NodeProto node : nodesToCount) {
      n += storedCount(Set.copyOf(node.getInputList()));
    }
    return n;
  }

  /** Elements of all distinct floating-point initializers: what the file stores. */
  public long storedParameterCount() {
    return storedCount(initializers.keySet());
  }

  private long storedCount(Collection<String> names) {
    long n = 0;
    for (String name : names) {
      TensorProto t = initializers.get(name);
      if (t != null && PARAMETER_TYPES.contains(t.getDataType())) {
        n += elements(t);
      }
    }
    return n;
  }

  /** Dimensions of the named initializer, or empty when there is no such initializer. */
  public Optional<long[]> initializerDims(String name) {
    TensorProto t = initializers.get(name);
    return t == null ? Optional.empty() : Optional.of(toLongs(t.getDimsList()));
  }

  /**
   * The values of a FLOAT initializer, row-major.
   *
   * @throws ModelException when there is no such FLOAT initializer or its external data cannot be
   *     read
   */
  public float[] floats(String name) {
    TensorProto t = initializers.get(name);
    if (t == null || t.getDataType() != DataType.FLOAT_VALUE) {
      throw new ModelException(source + ": no FLOAT initializer named '" + name + "'");
    }
    float[] out = new float[Math.toIntExact(elements(t))];
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      externalData(t, (long) out.length * Float.BYTES).asFloatBuffer().get(out);
    } else if (t.hasRawData()) {
      t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    } else {
      for (int i = 0; i < out.length; i++) {
        out[i] = t.getFloatData(i);
      }
    }
    return out;
  }

  /**
   * Integer values of a tensor that is an initializer or the output of a {@code Constant} node (how
   * exporters pass axes and shapes); empty when the tensor is computed at run time.
   */
  public Optional<long[]> constantInts(String tensor) {
    TensorProto t = initializers.get(tensor);
    NodeProto p = producers.get(tensor);
    if (t == null && p != null && p.getOpType().equals("Constant")) {
      t =
          p.getAttributeList().stream()
              .filter(a -> a.getName().equals("value"))
              .map(AttributeProto::getT)
              .findFirst()
              .orElse(null);
    }
    if (t == null) {
      return Optional.empty();
    }
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      boolean int32 = t.getDataType() == DataType.INT32_VALUE;
      int n = Math.toIntExact(elements(t));
      return Optional.of(ints(externalData(t, (long) n * (int32 ? Integer.BYTES : Long.BYTES)), n, int32));
    }
    return Optional.of(ints(t));
  }

  /**
   * A serialised copy of the model with {@code extraOutputs} (FLOAT tensors computed inside the
   * graph) added as graph outputs, so that a session can return intermediate feature maps.
   */
  public byte[] withOutputs(List<String> extraOutputs) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    for (String name : extraOutputs) {
      TypeProto type =
          TypeProto.newBuilder()
              .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE))
              .build();
      g.addOutput(ValueInfoProto.newBuilder().setName(name).setType(type));
    }
    return model.toBuilder().setGraph(g).build().toByteArray();
  }

  /**
   * The little-endian bytes of an initializer stored outside the graph, read from the file its
   * {@code location} names (relative to the model's directory, as ONNX specifies) at its {@code
   * offset}.
   *
   * @throws ModelException when the graph was not read from a file, the location leaves the
   *     model's directory, or the file is missing or shorter than the tensor
   */
  private ByteBuffer externalData(TensorProto t, long bytes) {
    Map<String, String> entries = new HashMap<>();
    t.getExternalDataList().forEach(e -> entries.put(e.getKey(), e.getValue()));
    String what = source + ": initializer '" + t.getName() + "'";
    String location = entries.get("location");
    if (directory == null || location == null) {
      throw new ModelException(
          what + " is stored outside the graph, and "
              + (location == null ? "names no location" : "the graph was not read from a file"));
    }
    Path file = directory.resolve(location).normalize();
    if (!file.startsWith(directory)) {
      throw new ModelException(
          what + ": external data location '" + location + "' leaves " + directory);
    }
    long offset;
    try {
      offset = Long.parseLong(entries.getOrDefault("offset", "0"));
    } catch (NumberFormatException e) {
      throw new ModelException(
          what + ": external data offset '" + entries.get("offset") + "' is not a number");
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new ModelException(what + ": " + bytes + " bytes of external data, too many to read");
    }
    ByteBuffer out = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file)) {
      while (out.hasRemaining()) {
        if (ch.read(out, offset + out.position()) < 0) {
          throw new ModelException(
              what + ": " + file + " ends before the tensor's " + bytes + " bytes at " + offset);
        }
      }
    } catch (NoSuchFileException e) {
      throw new ModelException(what + ": its external data file " + file + " does not exist");
    } catch (IOException e) {
      throw new ModelException(what + ": cannot read " + file + ": " + e.getMessage(), e);
    }
    return out.flip();
  }

  private static long[] ints(TensorProto t) {
    int n = (int) elements(t);
    boolean int32 = t.getDataType() == DataType.INT32_VALUE;
    if (t.hasRawData()) {
      return ints(t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN), n, int32);
    }
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = int32 ? t.getInt32Data(i) : t.getInt64Data(i);
    }
    return out;
  }

  private static long[] ints(ByteBuffer b, int n, boolean int32) {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = int32 ? b.getInt() : b.getLong();
    }
    return out;
  }

  private static long elements(TensorProto t) {
    long n = 1;
    for (long d : t.getDimsList()) {
      n *= d;
    }
    return n;
  }

  private static long[] toLongs(List<Long> list) {
    return list.stream().mapToLong(Long::longValue).toArray();
  }

  private static TensorInfo info(ValueInfoProto v) {
    TypeProto.Tensor tt = v.getType().getTensorType();
    List<String> dims = new ArrayList<>();
    for (TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
      dims.add(
          d.hasDimValue()
              ? Long.toString(d.getDimValue())
              : d.hasDimParam() ? d.getDimParam() : "?");
    }
    String type =
        DataType.forNumber(tt.getElemType()) == null
            ? "type-" + tt.getElemType()
            : DataType.forNumber(tt.getElemType()).name().toLowerCase(java.util.Locale.ROOT);
    return new TensorInfo(v.getName(), type, dims);
  }
}
