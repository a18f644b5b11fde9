package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReportJsonTest {

  record Figures(double measured, double missing, Double boxed, List<Double> list, double infinite) {}

  @Test
  void unmeasuredFiguresAreNullAndMeasuredOnesNumbers() {
    String json =
        ReportJson.format(new Figures(0.853, Double.NaN, Double.NaN, List.of(1.0, Double.NaN), Double.POSITIVE_INFINITY));

    assertThat(json)
        .isEqualTo("{\"measured\":0.853,\"missing\":null,\"boxed\":null,\"list\":[1.0,null],\"infinite\":null}");
  }
}
