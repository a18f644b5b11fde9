package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExplainerTest {

  /** tiny-cam as a model of any input size: frames go to it as they are. */
  private static final String ANY_SIZE =
      """
      {"name":"tiny","version":"1","input":"input","layout":"NCHW","channelOrder":"RGB",
       "pixelScale":255.0,"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25],
       "minSize":{"width":8,"height":8},"fixedSize":null,
       "labels":["a","b","c","d"],"outputs":{"logits":"logits","cam":"cam"},"head":"class-maps-gap"}
      """;

  @TempDir Path dir;

  /**
   * {@code explain} sees an image as the pipeline does: a grey frame's values as they are. Read
   * with {@code getRGB} a grey image counts as linear and comes out brighter, so explain scored
   * another picture than the pipeline classified (this test failed so).
   */
  @Test
  void aGreyImageIsScoredAsTheSameGreyInColour() throws Exception {
    int w = 64;
    int h = 48;
    BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    byte[] values = new byte[w * h];
    Arrays.fill(values, (byte) 100);
    grey.getRaster().setDataElements(0, 0, w, h, values);
    BufferedImage colour = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] rgb = new int[w * h];
    Arrays.fill(rgb, 0x646464); // 100, 100, 100
    colour.setRGB(0, 0, w, h, rgb, 0, w);

    Path model = Files.copy(TestModels.ensure("tiny-cam"), dir.resolve("model.onnx"));
    Files.writeString(dir.resolve("model.json"), ANY_SIZE);
    try (Explainer explainer = Explainer.open(model, EngineOptions.cpu(1), 0)) {
      Explainer.Explanation fromGrey = explainer.explain(grey, 4, 0.5f);
      Explainer.Explanation fromColour = explainer.explain(colour, 4, 0.5f);
      assertThat(fromGrey.top()).isEqualTo(fromColour.top());
    }
  }
}
