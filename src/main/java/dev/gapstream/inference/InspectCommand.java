package dev.gapstream.inference;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gapstream inspect MODEL.onnx [--json]}: prints a model's inputs and outputs, its head
 * kind, body and head parameters, and what a fully connected head would cost instead. Errors
 * surface as {@link ModelException}, which the CLI turns into one line and exit code 2.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = "Show a model's inputs, outputs, GAP head and parameter counts.")
public final class InspectCommand implements Callable<Integer> {

  @Parameters(
      paramLabel = "MODEL.onnx",
      description = "The ONNX model, or its directory (model.json beside it is used).")
  Path model;

  @Option(names = "--json", description = "Print the report as JSON.")
  boolean json;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    ModelAnalysis a = ModelAnalysis.analyze(ModelSpec.modelFile(model)); // a directory as run takes it
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(a));
    } else {
      out.print(text(a));
    }
    out.flush();
    return 0;
  }

  /** The human-readable report. */
  static String text(ModelAnalysis a) {
    StringBuilder b = new StringBuilder();
    line(b, "model", "%s (opset %d, %d nodes)", a.model(), a.opset(), a.nodeCount());
    a.inputs().forEach(t -> line(b, "input", "%s %s %s", t.name(), t.type(), t.shape()));
    a.outputs().forEach(t -> line(b, "output", "%s %s %s", t.name(), t.type(), t.shape()));
    if (a.gapOp() == null) {
      line(b, "head", "%s (no global-average-pooling head found)", a.head());
    } else {
      line(
          b,
          "head",
          "%s (%s, classifier %s, %d classes)",
          a.head(),
          a.gapOp(),
          a.classifier(),
          a.classes());
      line(b, "pre-GAP", "%s", a.preGapTensor());
    }
    line(b, "cam", "%s", a.cam());
    line(
        b,
        "params",
        "total %s = body %s + head %s (file stores %s)",
        n(a.totalParams()),
        n(a.bodyParams()),
        n(a.headParams()),
        n(a.storedParams()));
    if (a.fcHeadParams() != null) {
      line(
          b,
          "features",
          "%s %s at %dx%d input",
          a.featureTensor(),
          a.featureShape(),
          a.nominalWidth(),
          a.nominalHeight());
      line(
          b,
          "FC head",
          "%s params over the flattened map instead: %s the GAP head's",
          n(a.fcHeadParams()),
          a.fcHeadRatio() == null ? "n/a" : String.format(Locale.ROOT, "%.1fx", a.fcHeadRatio()));
    }
    return b.toString();
  }

  private static void line(StringBuilder b, String key, String fmt, Object... args) {
    b.append(String.format(Locale.ROOT, "%-9s ", key))
        .append(String.format(Locale.ROOT, fmt, args))
        .append(System.lineSeparator());
  }

  private static String n(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }
}
