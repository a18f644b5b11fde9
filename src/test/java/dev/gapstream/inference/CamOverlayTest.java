package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class CamOverlayTest {

  @Test
  void upsamplingInterpolatesBetweenCellCentresAndNormalises() {
    // 2×1 map {0, 10} to 4×1: centres at x = 1 and 3 of 4 pixels
    float[] up = CamOverlay.upsample(new float[] {0, 10}, 2, 1, 4, 1);
    assertThat(up[0]).isEqualTo(0f);
    assertThat(up[1]).isCloseTo(0.25f, within(1e-6f));
    assertThat(up[2]).isCloseTo(0.75f, within(1e-6f));
    assertThat(up[3]).isEqualTo(1f);
    assertThat(CamOverlay.upsample(new float[] {4, 4}, 2, 1, 3, 2)).containsOnly(0f);
  }

  /**
   * A cell's value sits where its receptive field is centred, as the peak marker does: for the
   * shipped model 1/16 into the cell, not its middle.
   */
  @Test
  void theHeatSitsAtTheCellCentreThePeakIsDrawnAt() {
    // 2×1 map {0, 10} over 16 pixels: centres at 0.0625 and 1.0625 cells, pixels 0.5 and 8.5
    float[] up = CamOverlay.upsample(new float[] {0, 10}, 2, 1, 16, 1, 1f, 1f, 0.0625f);
    assertThat(up[0]).as("pixel 0, centre 0.5: the first cell's centre").isEqualTo(0f);
    assertThat(up[8]).as("pixel 8, centre 8.5: the second's").isCloseTo(1f, within(1e-6f));
    assertThat(up[4]).as("half way").isCloseTo(0.5f, within(1e-6f));
  }

  @Test
  void rampRunsFromDarkToBright() {
    int dark = CamOverlay.colour(0);
    int bright = CamOverlay.colour(1);
    assertThat(luma(dark)).isLessThan(10);
    assertThat(luma(bright)).isGreaterThan(200);
    for (float t = 0; t < 1; t += 0.05f) {
      int next = luma(CamOverlay.colour(t + 0.05f));
      assertThat(next).isGreaterThanOrEqualTo(luma(CamOverlay.colour(t)) - 1);
    }
  }

  @Test
  void overlayKeepsTheFrameSizeAndTintsItByTheMap() {
    BufferedImage frame = new BufferedImage(80, 40, BufferedImage.TYPE_INT_RGB);
    float[] heat = {0, 0, 0, 9}; // 2×2 map, hottest bottom-right
    ClassActivationMap cam = CamExtractor.extract(heat, 0, 2, 2, 0, 0.5f);
    BufferedImage out = CamOverlay.render(frame, cam, "star 0.91");
    assertThat(out.getWidth()).isEqualTo(80);
    assertThat(out.getHeight()).isEqualTo(40);
    assertThat(frame.getRGB(70, 35) & 0xffffff).as("frame untouched").isZero();
    // on black, 45% of the ramp: bright where the map is hot, near black where it is cold
    assertThat(luma(out.getRGB(78, 38))).isGreaterThan(luma(out.getRGB(2, 38)) + 60);
  }

  private static int luma(int rgb) {
    return (((rgb >> 16) & 0xff) * 3 + ((rgb >> 8) & 0xff) * 6 + (rgb & 0xff)) / 10;
  }
}
