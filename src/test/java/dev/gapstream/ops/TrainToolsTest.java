package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training tools' descriptor ({@code tools/train}), run with Debian's PyTorch: what they write
 * into {@code model.json} must be what the shipped model carries, worked out rather than typed in.
 */
class TrainToolsTest {
  private static final Path TRAIN = ExternalTool.repoRoot().resolve("tools/train");
  private static final Path SHIPPED = ExternalTool.repoRoot().resolve("models/gapnet-shapes/model.json");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Runs {@code code} with Debian's python3 in tools/train and returns what it printed. */
  private static String python(String code, String... args) {
    String[] command = new String[3 + args.length];
    command[0] = "/usr/bin/python3";
    command[1] = "-c";
    command[2] = code;
    System.arraycopy(args, 0, command, 3, args.length);
    ExternalTool.Result r = ExternalTool.run(TRAIN, command);
    assertThat(r.ok())
        .as("python3 (install python3-torch python3-torchvision python3-onnx):%n%s", r.output())
        .isTrue();
    return r.output().strip();
  }

  /**
   * The cell centre the tools derive from the convolutions' geometry is where a map cell's
   * receptive field is centred, found here from the pixels a cell's value depends on (its
   * gradient's support, with the norms left out: GroupNorm makes every cell depend on every
   * pixel), and it is what the shipped descriptor says.
   */
  @Test
  void camCellCentreIsTheCentreOfACellsReceptiveField() throws IOException {
    String[] printed =
        python(
                """
                import torch, gapnet
                from torch import nn
                torch.manual_seed(0)
                gapnet.norm = lambda ch: nn.Identity()
                m = gapnet.GapNet(len(gapnet.LABELS)).eval()
                x = torch.randn(1, 3, 320, 320, requires_grad=True)
                _, cam = m(x)
                j = 20
                cam[0, 0, j, j].backward()
                ys, xs = torch.nonzero(x.grad[0].abs().sum(0), as_tuple=True)
                field = (int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max()))
                cell = 320 // cam.shape[3]
                print(*field, cell, ((field[0] + field[1]) / 2 + 0.5) / cell - j, gapnet.cam_cell_centre(m))
                """)
            .lines()
            .reduce((a, b) -> b)
            .orElseThrow()
            .split(" ");
    int left = Integer.parseInt(printed[0]);
    int right = Integer.parseInt(printed[1]);
    assertThat(right - left + 1).as("receptive field, px (the model card's 111)").isEqualTo(111);
    assertThat(printed[2]).as("top").isEqualTo(printed[0]);
    assertThat(printed[3]).as("bottom").isEqualTo(printed[1]);
    assertThat(printed[4]).as("cell size").isEqualTo("8");
    double measured = Double.parseDouble(printed[5]);
    double derived = Double.parseDouble(printed[6]);
    assertThat(derived).isEqualTo(measured);
    assertThat(JSON.readTree(SHIPPED.toFile()).get("camCellCentre").asDouble()).isEqualTo(derived);
  }

  /** The export writes the shipped descriptor again, field for field, from the net itself. */
  @Test
  void exportWritesTheShippedDescriptor(@TempDir Path out) throws IOException {
    python(
        """
        import sys, export, gapnet
        m = gapnet.GapNet(len(gapnet.LABELS))
        export.write_descriptor(sys.argv[1], "gapnet-shapes", "1", gapnet.cam_cell_centre(m))
        """,
        out.toString());
    JsonNode written = JSON.readTree(out.resolve("model.json").toFile());
    assertThat(written).isEqualTo(JSON.readTree(SHIPPED.toFile()));
  }

  /**
   * A model trained into another directory is named after it unless {@code --name} says otherwise:
   * it used to be called gapnet-shapes in its predictions and metric tags whatever it was.
   */
  @Test
  void aModelIsNamedAfterTheDirectoryItIsTrainedInto() {
    String printed =
        python(
            """
            import train
            print(train.model_name(None, "models/road-signs/"), train.model_name("signs", "models/road-signs"))
            """);
    assertThat(printed.lines().reduce((a, b) -> b).orElseThrow()).isEqualTo("road-signs signs");
  }
}
