package dev.gapstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JpegLibraryTest {

  private static final String JDK_LIBRARY =
      "7f0c2a400000-7f0c2a43f000 r-xp 00004000 fe:01 1234   /opt/java/openjdk/lib/libjavajpeg.so";

  @TempDir Path dir;

  @Test
  void aSystemLibjpegIsNamedByItsTurboVersion() throws Exception {
    Path turbo = dir.resolve("libjpeg.so.62.3.0");
    Files.write(turbo, "\0\0libjpeg-turbo version 2.1.5 (build 20230203)\0".getBytes("ISO-8859-1"));
    Path plain = dir.resolve("other").resolve("libjpeg.so.62");
    Files.createDirectories(plain.getParent());
    Files.write(plain, "\0Copyright (C) 1998, Thomas G. Lane\0".getBytes("ISO-8859-1"));

    assertThat(JpegLibrary.fromMaps(List.of(JDK_LIBRARY, map(turbo))))
        .isEqualTo("libjpeg-turbo 2.1.5 (" + turbo + ")");
    assertThat(JpegLibrary.fromMaps(List.of(map(plain), JDK_LIBRARY))).isEqualTo(plain.toString());
  }

  @Test
  void theJdksOwnWhenItsLibraryCameAloneAndNothingBeforeAnyJpeg() {
    String heap = "55d0c2a4b000-55d0c2a6c000 rw-p 00000000 00:00 0     [heap]";
    String anon = "7f0c2a400000-7f0c2a43f000 rw-p 00000000 00:00 0 ";
    assertThat(JpegLibrary.fromMaps(List.of(heap, JDK_LIBRARY, anon))).isEqualTo(JpegLibrary.BUILT_IN);
    assertThat(JpegLibrary.fromMaps(List.of(heap, anon))).isEqualTo(JpegLibrary.NOT_LOADED);
  }

  @Test
  void thisJvmNamesTheLibraryItDecodedAJpegWith() throws Exception {
    ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
    assertThat(ImageIO.write(new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR), "jpeg", jpeg)).isTrue();
    assertThat(ImageIO.read(new ByteArrayInputStream(jpeg.toByteArray()))).isNotNull();

    String described = JpegLibrary.describe();

    assertThat(described).isNotIn(JpegLibrary.NOT_LOADED, JpegLibrary.UNKNOWN);
    if (!described.equals(JpegLibrary.BUILT_IN)) {
      assertThat(described).containsPattern("libjpeg\\.so");
    }
  }

  @Test
  void loadingNamesTheLibrary() {
    String loaded = JpegLibrary.load();

    assertThat(loaded).isNotIn(JpegLibrary.NOT_LOADED, JpegLibrary.UNKNOWN).isEqualTo(JpegLibrary.describe());
  }

  @Test
  void onlyTheBuiltInLibraryIsWarnedAbout() {
    assertThat(JpegLibrary.warning(JpegLibrary.BUILT_IN)).get(InstanceOfAssertFactories.STRING)
        .contains("built-in libjpeg 6b", "libjpeg-turbo");
    assertThat(JpegLibrary.warning("libjpeg-turbo 2.1.5 (/usr/lib/libjpeg.so.62.3.0)")).isEmpty();
    assertThat(JpegLibrary.warning(JpegLibrary.UNKNOWN)).isEmpty();
  }

  private static String map(Path library) {
    return "7f0c2b000000-7f0c2b05a000 r-xp 00004000 fe:01 5678   " + library;
  }
}
