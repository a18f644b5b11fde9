package dev.gapstream.testing;

import dev.gapstream.config.ConfigLoader;
import dev.gapstream.config.GapstreamConfig;
import dev.gapstream.pipeline.GapstreamService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Starts pipelines for integration tests: embedded broker, ephemeral port, tight event-loop check. */
public final class TestPipelines {

  /** Vert.x warns when an event-loop task runs longer than this; {@link BlockedThreadGuard} fails on it. */
  public static final GapstreamService.Options TIGHT =
      new GapstreamService.Options(Duration.ofMillis(100));

  /** System property naming a model to use instead of the shipped one. */
  public static final String MODEL_PROPERTY = "gapstream.test.model";

  private TestPipelines() {}

  /** The test defaults, then the given overrides. */
  public static GapstreamConfig config(Map<String, String> overrides) {
    Map<String, String> settings = new HashMap<>();
    settings.put("kafka.bootstrap.servers", "");
    settings.put("http.port", "0");
    settings.put("inference.threads", "1");
    // Batches as configured: tests that count batches must not depend on this machine's timing.
    settings.put("batch.calibrate", "false");
    settings.putAll(modelOverride());
    settings.putAll(overrides);
    return ConfigLoader.builder().set(settings).load();
  }

  /**
   * {@code inference.model.path} from the system property {@value #MODEL_PROPERTY} when it is set,
   * else nothing (the default, shipped model). Lets the pipeline tests run against a stand-in
   * model ({@code -Dgapstream.test.model=...}) where the shipped one is not available.
   */
  public static Map<String, String> modelOverride() {
    String model = System.getProperty(MODEL_PROPERTY, "");
    return model.isBlank() ? Map.of() : Map.of("inference.model.path", model);
  }

  public static GapstreamService start(Map<String, String> overrides) {
    return GapstreamService.start(config(overrides), TIGHT);
  }

  /**
   * The settings that connect gapstream's consumer and producer to a SASL_PLAINTEXT listener
   * (mechanism PLAIN) as {@code user}, through the {@code kafka.consumer.*} and {@code
   * kafka.producer.*} pass-through.
   */
  public static Map<String, String> saslPlain(String bootstrapServers, String user, String password) {
    String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user
        + "\" password=\"" + password + "\";";
    Map<String, String> settings = new HashMap<>();
    settings.put("kafka.bootstrap.servers", bootstrapServers);
    for (String client : List.of("kafka.consumer.", "kafka.producer.")) {
      settings.put(client + "security.protocol", "SASL_PLAINTEXT");
      settings.put(client + "sasl.mechanism", "PLAIN");
      settings.put(client + "sasl.jaas.config", jaas);
    }
    return settings;
  }

  /** GET on the management port; returns status and body. */
  public static HttpResponse<String> get(GapstreamService service, String path) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.httpPort() + path))
            .timeout(Duration.ofSeconds(10))
            .build();
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }
}
