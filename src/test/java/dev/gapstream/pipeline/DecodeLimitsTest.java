package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.config.ConfigException;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.inference.ChannelOrder;
import dev.gapstream.inference.HeadKind;
import dev.gapstream.inference.ModelSpec;
import dev.gapstream.testing.TestPipelines;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How {@code ingest.resize.max.side} and the model's {@code maxSide} become the decoder's limit. */
class DecodeLimitsTest {

  private static final ModelSpec SHIPPED = ModelSpec.load(Path.of("models/gapnet-shapes/model.onnx"));

  private static GapstreamConfig config(String maxSide) {
    return TestPipelines.config(maxSide == null ? Map.of() : Map.of("ingest.resize.max.side", maxSide));
  }

  @Test
  void byDefaultFramesAreScaledToTheModelsMaxSide() {
    assertThat(SHIPPED.maxSide()).isEqualTo(256);
    assertThat(GapstreamService.decodeLimits(config(null), SHIPPED).maxSide()).isEqualTo(256);
    assertThat(GapstreamService.decodeLimits(config("-1"), SHIPPED).maxSide()).isEqualTo(256);
  }

  @Test
  void theConfigurationOverridesTheModel() {
    assertThat(GapstreamService.decodeLimits(config("0"), SHIPPED).maxSide()).as("off").isZero();
    assertThat(GapstreamService.decodeLimits(config("640"), SHIPPED).maxSide()).isEqualTo(640);
    assertThat(GapstreamService.decodeLimits(config("32"), SHIPPED).maxSide()).isEqualTo(32);
  }

  @Test
  void aMaxSideBelowTheModelsMinimumFailsAtStartUpNamingTheKey() {
    assertThatThrownBy(() -> GapstreamService.decodeLimits(config("31"), SHIPPED))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("ingest.resize.max.side: 31 is below the model's minimum input 32x32")
        .hasMessageContaining("at least 32");
  }

  @Test
  void fixedSizeModelsAreResizedToTheirInputWhateverTheMaxSide() {
    ModelSpec fixed =
        new ModelSpec(
            "fixed", "1", "input", "NCHW", ChannelOrder.RGB, 255f, new float[] {0, 0, 0},
            new float[] {1, 1, 1}, 224, 224, 224, 224, 0, List.of("a"), "logits", null,
            HeadKind.NONE, ModelSpec.CELL_MIDDLE);
    assertThat(GapstreamService.decodeLimits(config("100"), fixed).maxSide()).isZero();
    assertThat(GapstreamService.decodeLimits(config("100"), fixed).fixedWidth()).isEqualTo(224);
  }
}
