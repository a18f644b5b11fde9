package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CamExtractorTest {

  @Test
  void peakIsTheCentreOfTheHighestCell() {
    float[] map = new float[4 * 8]; // 4 rows, 8 columns
    map[2 * 8 + 5] = 3f;
    ClassActivationMap cam = CamExtractor.extract(map, 0, 4, 8, 1, 0.5f);
    assertThat(cam.peakX()).isEqualTo(5.5f / 8);
    assertThat(cam.peakY()).isEqualTo(2.5f / 4);
    assertThat(cam.box()).containsExactly(5f / 8, 2f / 4, 6f / 8, 3f / 4);
    assertThat(cam.classIndex()).isEqualTo(1);
  }

  @Test
  void boxCoversCellsAboveThresholdAndRespectsOffset() {
    float[] maps = new float[2 * 25];
    float[] map = {
      0, 0, 0, 0, 0,
      0, 6, 8, 0, 0,
      0, 5, 10, 4, 0,
      0, 0, 0, 0, 0,
      0, 0, 0, 0, 0
    };
    System.arraycopy(map, 0, maps, 25, 25);
    ClassActivationMap half = CamExtractor.extract(maps, 25, 5, 5, 0, 0.5f);
    assertThat(half.box()).containsExactly(0.2f, 0.2f, 0.6f, 0.6f);
    ClassActivationMap low = CamExtractor.extract(maps, 25, 5, 5, 0, 0.4f);
    assertThat(low.box()).containsExactly(0.2f, 0.2f, 0.8f, 0.6f);
    ClassActivationMap high = CamExtractor.extract(maps, 25, 5, 5, 0, 0.9f);
    assertThat(high.box()).containsExactly(0.4f, 0.4f, 0.6f, 0.6f);
  }

  @Test
  void onlyTheRegionConnectedToThePeakCounts() {
    float[] map = {
      9, 0, 0, 0,
      0, 0, 0, 0,
      0, 0, 8, 8,
      0, 0, 8, 10
    };
    ClassActivationMap cam = CamExtractor.extract(map, 0, 4, 4, 0, 0.5f);
    assertThat(cam.box()).containsExactly(0.5f, 0.5f, 1f, 1f);
    // diagonal neighbours are not connected (4-connectivity)
    float[] diagonal = {10, 0, 0, 9};
    assertThat(CamExtractor.extract(diagonal, 0, 2, 2, 0, 0.5f).box())
        .containsExactly(0f, 0f, 0.5f, 0.5f);
  }

  @Test
  void negativeMapsAreShiftedByTheirMinimum() {
    float[] map = {-10, -10, -10, -10, -2, -3, -10, -10, -10};
    ClassActivationMap cam = CamExtractor.extract(map, 0, 3, 3, 0, 0.5f);
    assertThat(cam.peakX()).isEqualTo(1.5f / 3);
    assertThat(cam.peakY()).isEqualTo(1.5f / 3);
    assertThat(cam.box()[0]).isEqualTo(1f / 3);
    assertThat(cam.box()[2]).isEqualTo(1f);
    assertThat(cam.box()[1]).isEqualTo(1f / 3);
    assertThat(cam.box()[3]).isEqualTo(2f / 3);
  }

  @Test
  void flatMapBoxesTheWholeFrame() {
    ClassActivationMap cam = CamExtractor.extract(new float[6], 0, 2, 3, 0, 0.5f);
    assertThat(cam.box()).containsExactly(0f, 0f, 1f, 1f);
  }

  @Test
  void weightedSumCombinesFeatureChannels() {
    // 2 channels of 1x3 maps, after a 1-float offset
    float[] features = {99, 1, 2, 3, 10, 20, 30};
    float[] cam = CamExtractor.weightedSum(features, 1, 2, 1, 3, new float[] {2f, -0.5f});
    assertThat(cam).containsExactly(2 - 5f, 4 - 10f, 6 - 15f);
  }

  @Test
  void gapLinearBatchesComputeEachMapOnDemand() {
    // 2 images × 2 channels of 1×3 features; classes: w0 = (1, 0), w1 = (2, -0.5)
    float[] features = {1, 2, 3, 10, 20, 30, 0, 0, 1, 0, 1, 0};
    float[][] weights = {{1, 0}, {2, -0.5f}};
    BatchResult r =
        new BatchResult(
            2, 2, new float[4], null, 1, 3, new boolean[2],
            new CamFeatures(features, 2, 1, 3, weights), 1f, 1f);
    assertThat(r.hasCams()).isTrue();
    assertThat(r.cam(0, 1)).containsExactly(2 - 5f, 4 - 10f, 6 - 15f);
    ClassActivationMap cam = CamExtractor.fromBatch(r, 1, 0, 0.5f);
    assertThat(cam.peakX()).isEqualTo(2.5f / 3);
    assertThat(cam.heatmap()).containsExactly(0, 0, 1);
    // the compatibility view materialises every map in the class-maps layout
    assertThat(r.cams()).hasSize(2 * 2 * 3);
    assertThat(r.cams()[r.camOffset(1, 1) + 1]).isEqualTo(-0.5f);
    assertThat(r.cams()).isSameAs(r.cams());
  }

  @Test
  void quantisationRoundTripsWithinOneLevel() {
    float[] map = {-1f, 0f, 0.25f, 3f, 2.5f, 1f};
    QuantizedHeatmap q = QuantizedHeatmap.of(map, 3, 2);
    assertThat(q.levels()).startsWith(0).contains(255);
    assertThat(q.width()).isEqualTo(3);
    assertThat(q.height()).isEqualTo(2);
    float[] back = q.decode();
    for (int i = 0; i < map.length; i++) {
      assertThat(back[i]).isCloseTo(map[i], within(4f / 510 + 1e-6f));
    }
    assertThat(QuantizedHeatmap.of(new float[] {5, 5}, 2, 1).levels()).containsExactly(0, 0);
  }

  @Test
  void heatInBoxIsTheShareOfHeatAboveTheMinimumInsideTheBox() {
    // 4x4 map, minimum 1: a hot 2x2 block (value 5) top-left, one warm cell (3) far away.
    float[] map = {
      5, 5, 1, 1,
      5, 5, 1, 1,
      1, 1, 1, 1,
      1, 1, 1, 3
    };
    ClassActivationMap cam = CamExtractor.extract(map, 0, 4, 4, 0, 0.6f);
    assertThat(cam.box()).containsExactly(0f, 0f, 0.5f, 0.5f);
    // heat above the minimum: 4 cells x 4 inside, 2 outside
    assertThat(cam.heatInBox()).isCloseTo(16.0 / 18.0, org.assertj.core.data.Offset.offset(1e-9));

    ClassActivationMap flat = CamExtractor.extract(new float[16], 0, 4, 4, 0, 0.5f);
    assertThat(flat.heatInBox()).isEqualTo(1.0);
  }

  @Test
  void aCellCentreOtherThanTheMiddleMovesThePeakAndTheBoxWithIt() {
    float[] map = new float[8 * 4];
    map[2 * 8 + 5] = 10; // row 2, column 5 of a 4x8 map
    ClassActivationMap middle = CamExtractor.extract(map, 0, 4, 8, 0, 0.5f);
    ClassActivationMap early = CamExtractor.extract(map, 0, 4, 8, 0, 0.5f, 0.0625f);

    assertThat(middle.peakX()).isEqualTo(5.5f / 8);
    assertThat(early.peakX()).isEqualTo(5.0625f / 8);
    assertThat(early.peakY()).isEqualTo(2.0625f / 4);
    assertThat(early.box()).containsExactly(4.5625f / 8, 1.5625f / 4, 5.5625f / 8, 2.5625f / 4);
    // one cell wide either way, and clamped to the frame at its edges
    float[] corner = new float[8 * 4];
    corner[0] = 1;
    assertThat(CamExtractor.extract(corner, 0, 4, 8, 0, 0.5f, 0.0625f).box()[0]).isZero();
  }

  /**
   * The last column and row reach the frame's right and bottom edges, as the first reach its left
   * and top: with a centre 0.0625 into each cell, a box on the last column ended at 7.5625/8, and
   * no box ever covered a frame's last pixels.
   */
  @Test
  void theOutermostCellsReachTheFramesEdges() {
    float[] far = new float[8 * 4];
    far[3 * 8 + 7] = 10; // the bottom-right cell of a 4x8 map
    ClassActivationMap cam = CamExtractor.extract(far, 0, 4, 8, 0, 0.5f, 0.0625f);

    assertThat(cam.box()).containsExactly(6.5625f / 8, 2.5625f / 4, 1f, 1f);
    assertThat(cam.peakX()).as("the peak stays at the cell's centre").isEqualTo(7.0625f / 8);
  }

  /**
   * The first cells reach the frame's first pixels too, whatever the cells' centre: centred 7/8 into
   * their cells (an unpadded net), a box on the first column began 3/8 of a cell into the frame. And
   * a grid short of the frame (its last pixels dropped by a stride) still boxes up to the frame's
   * far edge from its last cell, where the box stopped at the grid's span.
   */
  @Test
  void theFirstCellsReachTheFramesEdgesToo() {
    float[] first = {9, 0, 0, 0};
    assertThat(CamExtractor.extract(first, 0, 1, 4, 0, 0.5f, 0.875f).box())
        .containsExactly(0f, 0f, 1.375f / 4, 1f);
    float[] last = {0, 0, 0, 9};
    ClassActivationMap shortGrid = CamExtractor.localise(last, 1, 4, 0, 0.5f, ModelSpec.CELL_MIDDLE, 0.9f, 0.9f);
    assertThat(shortGrid.box()).containsExactly(3f / 4 * 0.9f, 0f, 1f, 1f);
  }

  /**
   * A 30-pixel-wide frame through a stride-8 net: 4 columns of 8 pixels, the last reaching 2 past
   * the frame's edge. The peak in that column is at its centre, pixel 28 of 30, not at 7/8 of the
   * frame (26.25) as if the 4 columns tiled it.
   */
  @Test
  void aGridReachingPastTheFramesEdgeIsPlacedByItsSpan() {
    float[] heat = {0, 0, 0, 1};
    float span = 32f / 30;
    ClassActivationMap cam = CamExtractor.localise(heat, 1, 4, 0, 0.5f, ModelSpec.CELL_MIDDLE, span, 1f);

    assertThat(cam.peakX() * 30).isCloseTo(28f, within(1e-4f));
    assertThat(cam.box()[0] * 30).as("the column's left edge, pixel 24").isCloseTo(24f, within(1e-4f));
    assertThat(cam.box()[2]).as("its right edge, past the frame's, clamped").isEqualTo(1f);
    assertThat(cam.heatInBox()).isEqualTo(1.0);
    assertThat(CamExtractor.localise(heat, 1, 4, 0, 0.5f, ModelSpec.CELL_MIDDLE, 1f, 1f).peakX())
        .as("tiling the frame instead").isEqualTo(3.5f / 4);
  }

  /**
   * A 26-pixel frame, 4 cells of 8, fields centred 3/4 into their cells: the region of cells 1 and 2
   * ends past the frame's edge and its box is clamped there, but the heat in it is still theirs, not
   * the last cell's too.
   */
  @Test
  void theHeatInABoxClampedAtTheFramesEdgeIsItsCellsHeat() {
    float[] heat = {0, 1, 1, 0.2f};
    ClassActivationMap cam = CamExtractor.localise(heat, 1, 4, 0, 0.5f, 0.75f, 32f / 26, 1f);

    assertThat(cam.box()[2]).isEqualTo(1f);
    assertThat(cam.cells()).containsExactly(1, 0, 3, 1);
    assertThat(cam.heatInBox()).isCloseTo(2 / 2.2, within(1e-6));
  }
}
