package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.gapstream.testing.ServiceProcess;
import dev.gapstream.testing.TestPipelines;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image unpacks ONNX Runtime's native libraries at build time and points the JVM at them
 * ({@code deploy/Dockerfile}), so that no start extracts them to {@code /tmp}: a container killed
 * by the OOM killer or after a failed liveness probe never deletes what it extracted, and the
 * pod's {@code /tmp} volume keeps it across restarts until its size limit gets the pod evicted.
 * Here the same unpacking from the same jar, then the service with the Dockerfile's property, on
 * the jar without its libraries as the image ships it, against the same service without either:
 * only the latter puts a library in its temporary directory.
 */
@EnabledOnOs(OS.LINUX) // the image's platform
class NativeLibrariesIT {

  private static final Pattern PROPERTY = Pattern.compile("\"-Donnxruntime\\.native\\.path=(/[^\"]+)\"");

  @TempDir Path dir;

  @Test
  void theImagesUnpackedLibrariesLoadWithNothingExtractedToTmp() throws Exception {
    String dockerfile = Files.readString(ExternalTool.repoRoot().resolve("deploy/Dockerfile"));
    Matcher property = PROPERTY.matcher(dockerfile);
    assertThat(property.find()).as("the ENTRYPOINT sets onnxruntime.native.path").isTrue();
    assertThat(dockerfile)
        .contains("COPY --from=build /native/ " + property.group(1) + "/")
        .contains("jar xf /src/target/lib/onnxruntime*.jar \"ai/onnxruntime/native/${platform}\"")
        .contains("rm -rf ai/onnxruntime/native");

    Path unpacked = unpack(Files.createDirectories(dir.resolve("native")));
    assertThat(unpacked.resolve("libonnxruntime.so")).exists();
    Path stripped = withoutLibraries(dir.resolve(ortJar().getFileName()));

    String classPath = System.getProperty("java.class.path").replace(ortJar().toString(), stripped.toString());
    assertThat(classPath).contains(stripped.toString());
    assertThat(librariesInTmpWhileRunning("unpacked", List.of("-Donnxruntime.native.path=" + unpacked), classPath))
        .isEmpty();
    assertThat(librariesInTmpWhileRunning("extracting", List.of(), System.getProperty("java.class.path")))
        .as("without the property ONNX Runtime extracts to java.io.tmpdir")
        .contains("libonnxruntime.so");
  }

  private static Path ortJar() throws Exception {
    return Path.of(OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  /** What the Dockerfile's RUN does: this platform's entries of the ORT jar, side by side. */
  private static Path unpack(Path into) throws Exception {
    String platform = "linux-" + ("amd64".equals(System.getProperty("os.arch")) ? "x64" : System.getProperty("os.arch"));
    String prefix = "ai/onnxruntime/native/" + platform + "/";
    try (ZipFile zip = new ZipFile(ortJar().toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        if (e.getName().startsWith(prefix) && !e.isDirectory()) {
          try (InputStream in = zip.getInputStream(e)) {
            Files.copy(in, into.resolve(e.getName().substring(prefix.length())));
          }
        }
      }
    }
    return into;
  }

  /** The ORT jar without its native libraries, as the Dockerfile leaves it, at {@code to}. */
  private static Path withoutLibraries(Path to) throws Exception {
    try (ZipFile zip = new ZipFile(ortJar().toFile());
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(to))) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        if (!e.getName().startsWith("ai/onnxruntime/native/")) {
          out.putNextEntry(new ZipEntry(e.getName()));
          try (InputStream in = zip.getInputStream(e)) {
            in.transferTo(out);
          }
          out.closeEntry();
        }
      }
    }
    return to;
  }

  /** Starts the service (no broker: the model loads all the same) and lists the libraries under its tmpdir. */
  private List<String> librariesInTmpWhileRunning(String name, List<String> jvmOptions, String classPath)
      throws Exception {
    try (ServiceProcess service = ServiceProcess.start(name, dir, Map.of("kafka.bootstrap.servers", "127.0.0.1:1"),
        jvmOptions, TestPipelines.TIGHT.maxEventLoopExecuteTime(), classPath)) {
      service.awaitRunning(Duration.ofSeconds(60));
      assertThat(service.log()).contains("gapstream is running: model");
      return libraries(service.temporaryDirectory());
    }
  }

  private static List<String> libraries(Path tmp) throws IOException {
    try (Stream<Path> files = Files.walk(tmp)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".so")).toList();
    }
  }
}
