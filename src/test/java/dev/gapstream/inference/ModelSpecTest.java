package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.gapstream.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSpecTest {
  private static final String DESCRIPTOR =
      """
      {"name":"gapnet-shapes","version":"1","input":"input","layout":"NCHW","channelOrder":"BGR",
       "pixelScale":255.0,"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25],
       "minSize":{"width":48,"height":40},"fixedSize":null,
       "labels":["circle","square","triangle","star"],
       "outputs":{"logits":"logits","cam":"cam"},"head":"class-maps-gap"}
      """;

  @TempDir Path dir;

  private Path modelWith(String descriptor) throws Exception {
    Path onnx = dir.resolve("m.onnx");
    Files.copy(TestModels.ensure("tiny-cam"), onnx);
    if (descriptor != null) {
      Files.writeString(dir.resolve("model.json"), descriptor);
    }
    return onnx;
  }

  @Test
  void readsTheDescriptorBesideTheModel() throws Exception {
    ModelSpec spec = ModelSpec.load(modelWith(DESCRIPTOR));
    assertThat(spec.name()).isEqualTo("gapnet-shapes");
    assertThat(spec.channelOrder()).isEqualTo(ChannelOrder.BGR);
    assertThat(spec.mean()).containsExactly(0.5f, 0.5f, 0.5f);
    assertThat(spec.std()).containsExactly(0.25f, 0.25f, 0.25f);
    assertThat(spec.minWidth()).isEqualTo(48);
    assertThat(spec.minHeight()).isEqualTo(40);
    assertThat(spec.isFixedSize()).isFalse();
    assertThat(spec.maxSide()).as("none unless the descriptor gives one").isZero();
    assertThat(spec.labels()).containsExactly("circle", "square", "triangle", "star");
    assertThat(spec.camOutput()).isEqualTo("cam");
    assertThat(spec.head()).isEqualTo(HeadKind.CLASS_MAPS_GAP);
  }

  @Test
  void theDescriptorsMaxSideIsReadAndChecked() throws Exception {
    Path onnx = modelWith(DESCRIPTOR.replace("\"fixedSize\":null,", "\"fixedSize\":null,\"maxSide\":320,"));
    assertThat(ModelSpec.load(onnx).maxSide()).isEqualTo(320);
    for (String bad : new String[] {"-1", "200.5", "\"big\""}) {
      Files.writeString(
          dir.resolve("model.json"), DESCRIPTOR.replace("\"fixedSize\":null,", "\"fixedSize\":null,\"maxSide\":" + bad + ","));
      assertThatThrownBy(() -> ModelSpec.load(onnx))
          .isInstanceOf(ModelException.class)
          .hasMessageContaining("model.json")
          .hasMessageContaining("'maxSide'");
    }
    Files.writeString(
        dir.resolve("model.json"), DESCRIPTOR.replace("\"fixedSize\":null,", "\"fixedSize\":null,\"maxSide\":40,"));
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("maxSide 40 is below minSize 48x40");
  }

  /** Without its descriptor a model is read with defaults, and the log says so: it used to be silent. */
  @Test
  void bareModelGetsImageNetDefaults() throws Exception {
    ModelSpec spec;
    List<ILoggingEvent> logged;
    try (LogCapture log = LogCapture.of(ModelSpec.class)) {
      spec = ModelSpec.load(modelWith(null));
      logged = log.events();
    }
    assertThat(logged).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getFormattedMessage()).contains("m.onnx: no model.json beside it",
          "input 224x224, RGB scaled to 0..1, ImageNet mean and std, labels class-0 to class-3");
    });
    assertThat(spec.name()).isEqualTo("m");
    assertThat(spec.inputName()).isEqualTo("input");
    assertThat(spec.logitsOutput()).isEqualTo("logits");
    assertThat(spec.mean()).containsExactly(0.485f, 0.456f, 0.406f);
    assertThat(spec.std()).containsExactly(0.229f, 0.224f, 0.225f);
    assertThat(spec.fixedWidth()).isEqualTo(224);
    assertThat(spec.fixedHeight()).isEqualTo(224);
    assertThat(spec.channelOrder()).isEqualTo(ChannelOrder.RGB);
    assertThat(spec.labels()).containsExactly("class-0", "class-1", "class-2", "class-3");
    assertThat(spec.head()).isEqualTo(HeadKind.CLASS_MAPS_GAP);
    assertThat(spec.camOutput()).isNull();
  }

  /** A bare model fixed at a size other than 224 gets its own size, not 224 to fail every run. */
  @Test
  void aBareModelFixedAtItsOwnSizeKeepsIt() {
    ModelSpec spec = ModelSpec.load(TestModels.ensure("tiny-fc"));
    assertThat(new int[] {spec.fixedWidth(), spec.fixedHeight()}).containsExactly(32, 32);
    assertThat(new int[] {spec.minWidth(), spec.minHeight()}).containsExactly(32, 32);
  }

  @Test
  void invalidDescriptorsNameTheFileAndTheProblem() throws Exception {
    Path onnx = modelWith(DESCRIPTOR.replace("\"NCHW\"", "\"NHWC\""));
    assertThatThrownBy(() -> ModelSpec.load(onnx))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("model.json")
        .hasMessageContaining("NHWC");
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("[0.5,0.5,0.5]", "[0.5]"));
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("'mean'");
    Files.writeString(dir.resolve("model.json"), "{\"name\": ");
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("not valid JSON");
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("class-maps-gap", "mlp"));
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("unknown head 'mlp'");
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("\"BGR\"", "\"GRB\""));
    assertThatThrownBy(() -> ModelSpec.load(onnx))
        .hasMessageContaining("model.json: unknown channelOrder 'GRB' (expected RGB or BGR)");
    // In any case, as the head is: "bgr" failed with "No enum constant ...ChannelOrder.bgr".
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("\"BGR\"", "\"bgr\""));
    assertThat(ModelSpec.load(onnx).channelOrder()).isEqualTo(ChannelOrder.BGR);
    // Frames were resized to 224x0 and every one failed to decode.
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("\"fixedSize\":null", "\"fixedSize\":{\"width\":224}"));
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("fixedSize needs both width and height");
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("\"star\"", "7"));
    assertThatThrownBy(() -> ModelSpec.load(onnx))
        .hasMessageContaining("field 'labels' must be a non-empty array of strings; element 3 is 7");
  }

  /**
   * A mean and std for 0-255 pixels (mmcv's, say) under the default pixelScale 255 made every frame
   * a near-constant input, and the model the same prediction for each: refused, naming the fix.
   */
  /**
   * A field gapstream does not read, a misspelt one most likely, is refused naming the one meant:
   * {@code maxside} and {@code camCellCenter} were ignored, and a model trained at 256 px was served
   * frames at full size, its CAM peaks half a cell off.
   */
  @Test
  void aFieldGapstreamDoesNotReadIsRefusedNamingTheOneMeant() throws Exception {
    Path onnx = modelWith(DESCRIPTOR.replace("\"fixedSize\":null,", "\"fixedSize\":null,\"maxside\":256,"));
    assertThatThrownBy(() -> ModelSpec.load(onnx))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("model.json: unknown field 'maxside'; did you mean maxSide? (fields: camCellCentre,");
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("\"head\":", "\"camCellCenter\":0.0625,\"head\":"));
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("unknown field 'camCellCenter'; did you mean camCellCentre?");
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("{\"width\":48,\"height\":40}", "{\"width\":48,\"hieght\":40}"));
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("unknown field 'minSize.hieght'; did you mean height?");
    Files.writeString(dir.resolve("model.json"), DESCRIPTOR.replace("\"cam\":\"cam\"", "\"cams\":\"cam\""));
    assertThatThrownBy(() -> ModelSpec.load(onnx)).hasMessageContaining("unknown field 'outputs.cams'; did you mean cam?");
  }

  @Test
  void aMeanAndStdForAnotherPixelRangeAreRefused() throws Exception {
    String for255 = DESCRIPTOR.replace("[0.5,0.5,0.5]", "[123.675,116.28,103.53]")
        .replace("[0.25,0.25,0.25]", "[58.395,57.12,57.375]");
    Path onnx = modelWith(for255);
    assertThatThrownBy(() -> ModelSpec.load(onnx))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("do not fit pixels of 0 to 1.0")
        .hasMessageContaining("need \"pixelScale\": 1");
    Files.writeString(dir.resolve("model.json"), for255.replace("\"pixelScale\":255.0", "\"pixelScale\":1"));
    assertThat(ModelSpec.load(onnx).mean()).containsExactly(123.675f, 116.28f, 103.53f);
  }

  @Test
  void missingOrNonOnnxModelIsAClearError() throws Exception {
    assertThatThrownBy(() -> ModelSpec.load(dir.resolve("absent.onnx")))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("absent.onnx")
        .hasMessageContaining("no such model file");
    Path text = Files.writeString(dir.resolve("notes.onnx"), "just some text\n");
    assertThatThrownBy(() -> ModelSpec.load(text))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("notes.onnx")
        .hasMessageContaining("not an ONNX model");
  }
}
