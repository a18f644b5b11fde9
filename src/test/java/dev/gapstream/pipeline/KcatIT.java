package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gapstream.synth.SyntheticFrame;
import dev.gapstream.synth.SyntheticFrames;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.TestPipelines;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A third-party Kafka client, kcat, sends a JPEG frame and reads its JSON prediction back. */
@ExtendWith(BlockedThreadGuard.class)
class KcatIT {

  @TempDir Path dir;

  @Test
  void kcatProducesAJpegAndReadsItsPrediction() throws Exception {
    SyntheticFrame frame = new SyntheticFrames(99).next();
    Path jpeg = dir.resolve("frame.jpg");
    Files.write(jpeg, frame.encode("jpeg"));

    try (GapstreamService service = TestPipelines.start(Map.of())) {
      String broker = service.bootstrapServers();
      Result produced =
          kcat("-P", "-b", broker, "-t", "frames", "-k", "camera-7",
              "-H", "content-type=image/jpeg", "-H", "frame-id=kcat-1", jpeg.toString());
      assertThat(produced.code).as(produced.output).isZero();

      Result consumed =
          kcat("-C", "-q", "-b", broker, "-t", "predictions", "-o", "beginning", "-c", "1",
              "-f", "%k\\t%h\\t%s\\n");
      assertThat(consumed.code).as(consumed.output).isZero();
      String[] fields = consumed.output.trim().split("\t", 3);
      assertThat(fields[0]).isEqualTo("camera-7");
      assertThat(fields[1]).contains("frame-id=kcat-1");
      JsonNode prediction = new ObjectMapper().readTree(fields[2]);
      assertThat(prediction.path("frameId").asText()).isEqualTo("kcat-1");
      assertThat(prediction.path("top").get(0).path("label").asText()).isEqualTo(frame.labelName());
      assertThat(prediction.path("model").path("name").asText()).isEqualTo("gapnet-shapes");
      assertThat(prediction.path("cam").path("box").size()).isEqualTo(4);
    }
  }

  private record Result(int code, String output) {}

  private static Result kcat(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add("kcat");
    command.addAll(List.of(args));
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError("kcat is not installed (apt-get install kcat; .ci/run does this)", e);
    }
    process.getOutputStream().close();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("kcat did not finish in 60 s: " + command);
    }
    return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }
}
