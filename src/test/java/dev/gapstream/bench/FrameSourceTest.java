package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.GapstreamException;
import dev.gapstream.synth.FrameSize;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench} and {@code load --images DIR}: the directory's JPEG and PNG files, in name order,
 * each typed by its bytes; hidden files and directories named as images left out.
 */
class FrameSourceTest {

  @TempDir Path dir;

  @Test
  void aDirectorysImagesAreTypedByTheirBytesAndRepeated() throws Exception {
    byte[] png = image("png");
    byte[] jpeg = image("jpeg");
    Files.write(dir.resolve("a.jpg"), png); // a PNG saved as .jpg
    Files.write(dir.resolve("b.jpeg"), jpeg);
    Files.write(dir.resolve("._a.jpg"), new byte[] {0, 5, 22, 7});
    Files.createDirectory(dir.resolve("c.png"));
    Files.writeString(dir.resolve("notes.txt"), "not a frame");

    List<EncodedFrame> frames = FrameSource.directory(dir, 5);

    assertThat(frames).extracting(EncodedFrame::contentType)
        .containsExactly("image/png", "image/jpeg", "image/png", "image/jpeg", "image/png");
    assertThat(frames.get(0).data()).isEqualTo(png);
    assertThat(frames.get(1).data()).isEqualTo(jpeg);
  }

  /** A long run's frames hold the distinct ones only: 100 million used to be a list of as many. */
  @Test
  void repeatedFramesAreTheDistinctOnesInTurn() {
    List<EncodedFrame> frames = FrameSource.synthetic(100_000_000, new FrameSize(32, 32), "jpeg", 5);

    assertThat(frames).hasSize(100_000_000);
    assertThat(frames.get(99_999_999)).isSameAs(frames.get(99_999_999 % 64)).isNotSameAs(frames.get(0));
    assertThat(frames.get(64)).isSameAs(frames.get(0));
    assertThatThrownBy(() -> frames.get(100_000_000)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> frames.set(0, frames.get(1))).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aDirectoryWithoutImagesIsNamed() throws Exception {
    Files.write(dir.resolve("._a.jpg"), new byte[] {0, 5, 22, 7});

    assertThatThrownBy(() -> FrameSource.directory(dir, 1))
        .isInstanceOf(GapstreamException.class)
        .hasMessage(dir + " holds no .jpg, .jpeg or .png file");
  }

  private static byte[] image(String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(16, 12, BufferedImage.TYPE_INT_RGB), format, out);
    return out.toByteArray();
  }
}
