package dev.gapstream.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SyntheticFramesTest {

  @Test
  void sameSeedGivesSameBytes() {
    SyntheticFrames a = new SyntheticFrames(42);
    SyntheticFrames b = new SyntheticFrames(42);
    for (int i = 0; i < 10; i++) {
      SyntheticFrame fa = a.next();
      SyntheticFrame fb = b.next();
      assertThat(fa.label()).isEqualTo(fb.label());
      assertThat(fa.box()).isEqualTo(fb.box());
      assertThat(fa.encode("png")).isEqualTo(fb.encode("png"));
      assertThat(fa.encode("jpeg")).isEqualTo(fb.encode("jpeg"));
    }
  }

  @Test
  void differentSeedsDiffer() {
    assertThat(new SyntheticFrames(1).next().encode("png"))
        .isNotEqualTo(new SyntheticFrames(2).next().encode("png"));
  }

  @Test
  void everyClassAndEverySizeAppears() {
    SyntheticFrames frames = new SyntheticFrames(7);
    Set<Integer> labels = new HashSet<>();
    Set<FrameSize> sizes = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      SyntheticFrame f = frames.next();
      labels.add(f.label());
      sizes.add(new FrameSize(f.width(), f.height()));
      assertThat(f.labelName()).isEqualTo(SyntheticFrames.LABELS.get(f.label()));
    }
    assertThat(labels).hasSize(SyntheticFrames.LABELS.size());
    assertThat(sizes).containsExactlyInAnyOrderElementsOf(SyntheticFrames.DEFAULT_SIZES);
  }

  @Test
  void labelOrderIsTheModelsOrder() {
    assertThat(SyntheticFrames.LABELS)
        .containsExactly("circle", "square", "triangle", "star", "cross", "ring");
  }

  @Test
  void sizesComeFromTheGivenSet() {
    List<FrameSize> sizes = List.of(FrameSize.parse("80x48"), FrameSize.parse("33X65"));
    SyntheticFrames frames = new SyntheticFrames(3, sizes);
    for (int i = 0; i < 50; i++) {
      SyntheticFrame f = frames.next();
      assertThat(sizes).contains(new FrameSize(f.width(), f.height()));
    }
  }

  @Test
  void boxLiesInsideTheFrameAndHoldsEveryObjectPixel() {
    // Without clutter the background is flat, so every pixel that differs from the corner colour
    // belongs to the object (the margin keeps the object off the corners).
    SyntheticFrames frames = new SyntheticFrames(11, SyntheticFrames.DEFAULT_SIZES, false);
    for (int i = 0; i < 60; i++) {
      SyntheticFrame f = frames.next();
      Box box = f.box();
      assertThat(box.x0()).isGreaterThanOrEqualTo(0);
      assertThat(box.y0()).isGreaterThanOrEqualTo(0);
      assertThat(box.x1()).isLessThanOrEqualTo(f.width());
      assertThat(box.y1()).isLessThanOrEqualTo(f.height());
      int shorter = Math.min(f.width(), f.height());
      assertThat(Math.max(box.width(), box.height()))
          .as("object size")
          .isBetween((int) (0.25 * shorter), shorter);
      int background = f.image().getRGB(0, 0);
      int objectPixels = 0;
      int x0 = f.width();
      int y0 = f.height();
      int x1 = -1;
      int y1 = -1;
      for (int y = 0; y < f.height(); y++) {
        for (int x = 0; x < f.width(); x++) {
          if (f.image().getRGB(x, y) != background) {
            assertThat(box.contains(x, y)).as("pixel %d,%d of frame %d", x, y, i).isTrue();
            objectPixels++;
            x0 = Math.min(x0, x);
            y0 = Math.min(y0, y);
            x1 = Math.max(x1, x);
            y1 = Math.max(y1, y);
          }
        }
      }
      assertThat(objectPixels).isGreaterThan(box.width() * box.height() / 5);
      // And no larger than the object: a rotated circle's box was up to 11 px wider on each side
      // (JDK 17 bounded its curves' control points).
      String object = String.format("frame %d (label %d), object pixels %d..%d x %d..%d", i, f.label(), x0, x1, y0, y1);
      assertThat(box.x0()).as(object).isGreaterThanOrEqualTo(x0 - 1);
      assertThat(box.y0()).as(object).isGreaterThanOrEqualTo(y0 - 1);
      assertThat(box.x1()).as(object).isLessThanOrEqualTo(x1 + 2);
      assertThat(box.y1()).as(object).isLessThanOrEqualTo(y1 + 2);
    }
  }

  @Test
  void clutteredFramesStillKeepTheirBoxInside() {
    SyntheticFrames frames = new SyntheticFrames(5);
    for (int i = 0; i < 100; i++) {
      SyntheticFrame f = frames.next();
      assertThat(f.box().x0()).isGreaterThanOrEqualTo(0);
      assertThat(f.box().y0()).isGreaterThanOrEqualTo(0);
      assertThat(f.box().x1()).isLessThanOrEqualTo(f.width());
      assertThat(f.box().y1()).isLessThanOrEqualTo(f.height());
    }
  }

  @Test
  void encodesPngAndJpeg() {
    SyntheticFrame f = new SyntheticFrames(9).next();
    assertThat(f.encode("png")).startsWith(0x89, 'P', 'N', 'G');
    assertThat(f.encode("jpeg")).startsWith(0xff, 0xd8);
    assertThatThrownBy(() -> f.encode("gif")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void frameSizeParsesAndRejects() {
    assertThat(FrameSize.parse("128x96")).isEqualTo(new FrameSize(128, 96));
    assertThat(FrameSize.parse("128x96").toString()).isEqualTo("128x96");
    assertThatThrownBy(() -> FrameSize.parse("128")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FrameSize.parse("ax9")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FrameSize.parse("0x9")).isInstanceOf(IllegalArgumentException.class);
  }
}
