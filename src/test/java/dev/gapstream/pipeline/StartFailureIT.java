package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.GapstreamException;
import dev.gapstream.testing.TestPipelines;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A start that fails part-way (here the management port, after the embedded broker and the model)
 * says which key and closes what it had started: the broker's port is free again.
 */
class StartFailureIT {

  @Test
  void aFailedStartNamesTheKeyAndClosesTheBrokerItStarted() throws Exception {
    int brokerPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      brokerPort = probe.getLocalPort();
    }
    try (ServerSocket taken = new ServerSocket(0)) {
      Map<String, String> settings = Map.of(
          "kafka.embedded.port", String.valueOf(brokerPort), "http.port", String.valueOf(taken.getLocalPort()));
      assertThatThrownBy(() -> TestPipelines.start(settings))
          .isInstanceOf(GapstreamException.class)
          .hasMessageContaining("http.port=" + taken.getLocalPort() + ": cannot listen");
    }
    try (ServerSocket again = new ServerSocket(brokerPort)) {
      assertThat(again.getLocalPort()).as("the failed start's broker port, bound again").isEqualTo(brokerPort);
    }
  }
}
