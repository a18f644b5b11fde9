package dev.gapstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuModelTest {

  @Test
  void namesTheCpuAndTheVectorExtensionsOnnxRuntimeChoosesFrom() {
    List<String> cpuinfo =
        List.of(
            "processor\t: 0",
            "vendor_id\t: AuthenticAMD",
            "cpu family\t: 26",
            "model\t\t: 2",
            "model name\t: AMD EPYC",
            // A Zen 5 guest's kernel writes runs of spaces between some flags.
            "flags\t\t: fpu sse2 avx f16c pti        vmmcall bmi1 avx2 fma avx512f avx512bw   avx512_vnni",
            "",
            "processor\t: 1");

    assertThat(Benchmark.cpuModel(cpuinfo))
        .isEqualTo("AMD EPYC (family 26, model 2; avx avx2 fma avx512f avx512bw avx512_vnni)");
  }

  @Test
  void aCpuWithoutAvxSaysSo() {
    List<String> cpuinfo = List.of("cpu family\t: 6", "model\t\t: 85", "model name\t: Some CPU", "flags\t\t: fpu sse2");

    assertThat(Benchmark.cpuModel(cpuinfo)).isEqualTo("Some CPU (family 6, model 85; no AVX)");
  }
}
