package dev.gapstream.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrtTempDirectoriesTest {

  /**
   * Only ONNX Runtime's directories that are empty and older than a starting process's could be:
   * a fresh one may be filled in a moment, a full one is in use, anything else is not its.
   */
  @Test
  void onlyOldEmptyOnnxRuntimeDirectoriesGo(@TempDir Path tmp) throws Exception {
    FileTime hourAgo = FileTime.from(Instant.now().minusSeconds(3_600));
    Path stale = old(Files.createDirectory(tmp.resolve("onnxruntime-java111")), hourAgo);
    Path fresh = Files.createDirectory(tmp.resolve("onnxruntime-java222"));
    Path full = Files.createDirectory(tmp.resolve("onnxruntime-java333"));
    Files.writeString(full.resolve("libonnxruntime.so"), "in use");
    old(full, hourAgo);
    Path other = old(Files.createDirectory(tmp.resolve("other-java444")), hourAgo);
    Path file = old(Files.writeString(tmp.resolve("onnxruntime-java555"), "a file"), hourAgo);

    assertThat(OrtTempDirectories.sweep(tmp)).isEqualTo(1);

    assertThat(stale).doesNotExist();
    assertThat(fresh).isDirectory();
    assertThat(full).isDirectory();
    assertThat(other).isDirectory();
    assertThat(file).isRegularFile();
    assertThat(OrtTempDirectories.sweep(tmp.resolve("missing"))).as("a tmpdir that is not there").isZero();
  }

  private static Path old(Path path, FileTime time) throws Exception {
    Files.setLastModifiedTime(path, time);
    return path;
  }
}
