package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code inspect --json} on torchvision architectures (random weights), compared with figures the
 * export script computed from the torch modules.
 *
 * <p>Totals are compared with {@code exportedParams}, not PyTorch's count: the export folds each
 * BatchNorm into its convolution (its weight and bias go, the convolution gains a bias), so
 * ResNet-18's 11,689,512 become 11,684,712 and MobileNetV2's 3,504,872 become 3,487,816. SqueezeNet
 * has no BatchNorm and keeps 1,235,496. Head parameters are untouched by the export.
 */
class InspectTorchvisionIT {

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "mobilenet_v2", "squeezenet1_1"})
  void reportsHeadAndParameterCounts(String name) throws Exception {
    Path onnx = TestModels.ensure(name);
    JsonNode expected = TestModels.expectations(name);

    JsonNode report = inspectJson(onnx);

    assertThat(report.get("head").asText()).isEqualTo(expected.get("kind").asText());
    assertThat(report.get("headParams").asLong()).isEqualTo(expected.get("headParams").asLong());
    assertThat(report.get("totalParams").asLong())
        .isEqualTo(expected.get("exportedParams").asLong());
    assertThat(report.get("bodyParams").asLong() + report.get("headParams").asLong())
        .isEqualTo(report.get("totalParams").asLong());
    assertThat(report.get("classes").asInt()).isEqualTo(1000);
    assertThat(report.get("featureShape")).isEqualTo(expected.get("featureShape"));
    assertThat(report.get("fcHeadParams").asLong())
        .isEqualTo(expected.get("fcHeadParams").asLong());
    assertThat(report.get("preGapTensor").asText()).isNotBlank();
  }

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "mobilenet_v2", "squeezenet1_1"})
  void headMatchesTheTorchModule(String name) throws Exception {
    JsonNode expected = TestModels.expectations(name);
    long torchHead = List.of("resnet18", "squeezenet1_1").contains(name) ? 513_000 : 1_281_000;
    long torchTotal =
        switch (name) {
          case "resnet18" -> 11_689_512;
          case "mobilenet_v2" -> 3_504_872;
          default -> 1_235_496;
        };
    assertThat(expected.get("headParams").asLong()).isEqualTo(torchHead);
    assertThat(expected.get("torchParams").asLong()).isEqualTo(torchTotal);
  }

  static JsonNode inspectJson(Path onnx) throws Exception {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute("inspect", onnx.toString(), "--json");
    assertThat(code).as("exit code; stderr: %s", err).isZero();
    return new ObjectMapper().readTree(out.toString());
  }
}
