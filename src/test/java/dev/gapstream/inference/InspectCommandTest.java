package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class InspectCommandTest {

  private record Run(int code, String out, String err) {}

  private static Run inspect(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 1];
    all[0] = "inspect";
    System.arraycopy(args, 0, all, 1, args.length);
    return new Run(cli.execute(all), out.toString(), err.toString());
  }

  @Test
  void reportsEachHeadKindOfTheTinyModels() {
    ModelAnalysis cam = ModelAnalysis.analyze(TestModels.ensure("tiny-cam"));
    assertThat(cam.head()).isEqualTo("class-maps-gap");
    assertThat(cam.gapOp()).isEqualTo("ReduceMean");
    assertThat(cam.headParams()).isEqualTo(36);
    assertThat(cam.featureShape()).containsExactly(8L, 112L, 112L);
    assertThat(cam.fcHeadParams()).isEqualTo(8L * 112 * 112 * 4 + 4);

    ModelAnalysis linear = ModelAnalysis.analyze(TestModels.ensure("tiny-linear"));
    assertThat(linear.head()).isEqualTo("gap-linear");
    assertThat(linear.totalParams()).isEqualTo(260);
    assertThat(linear.bodyParams()).isEqualTo(224);

    ModelAnalysis fc = ModelAnalysis.analyze(TestModels.ensure("tiny-fc"));
    assertThat(fc.head()).isEqualTo("none");
    assertThat(fc.headParams()).isZero();
    assertThat(fc.fcHeadParams()).isNull();
  }

  @Test
  void reportsTheCamPathOfEachHeadKind() {
    assertThat(inspect(TestModels.ensure("tiny-cam").toString()).out())
        .contains("cam       class-map output `cam`");
    String linear = inspect(TestModels.ensure("tiny-linear").toString()).out();
    assertThat(linear)
        .containsPattern("cam       computed from feature map `[^`]+` and weights of `[^`]+`");
    assertThat(inspect(TestModels.ensure("tiny-fc").toString()).out())
        .contains("cam       none");
  }

  @Test
  void textReportShowsHeadAndParameters() {
    Run r = inspect(TestModels.ensure("tiny-linear").toString());
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("head      gap-linear (GlobalAveragePool")
        .contains("total 260 = body 224 + head 36")
        .contains("FC head   401,412 params");
  }

  /** A model's directory, as inference.model.path and explain --model take it. */
  @Test
  void aModelsDirectoryIsInspectedAsItsModelOnnx(@TempDir Path dir) throws Exception {
    Files.copy(TestModels.ensure("tiny-linear"), dir.resolve("model.onnx"));
    Run r = inspect(dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("total 260 = body 224 + head 36");
  }

  @Test
  void nonOnnxFileIsAOneLineErrorWithExitCode2(@TempDir Path dir) throws Exception {
    Path text = Files.writeString(dir.resolve("cat.jpg"), "definitely not a model\n");
    Run r = inspect(text.toString(), "--json");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip())
        .contains("cat.jpg")
        .contains("not an ONNX model")
        .doesNotContain("\n");

    Run missing = inspect(dir.resolve("nope.onnx").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("nope.onnx: no such model file");
  }
}
