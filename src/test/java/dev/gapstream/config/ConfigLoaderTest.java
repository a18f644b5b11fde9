package dev.gapstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.batch.BatchPolicy;
import dev.gapstream.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @Test
  void defaultsMatchTheDocumentedContract() {
    GapstreamConfig c = ConfigLoader.builder().load();

    assertThat(c.kafka().bootstrapServers()).isEmpty();
    assertThat(c.kafka().useEmbedded()).isTrue();
    assertThat(c.kafka().groupId()).isEqualTo("gapstream");
    assertThat(c.kafka().consumer()).isEmpty();
    assertThat(c.topics())
        .isEqualTo(new GapstreamConfig.Topics("frames", "predictions", "frames.dlq"));
    assertThat(c.batch()).isEqualTo(new GapstreamConfig.Batch(16, 4_194_304, 10, true, 0));
    assertThat(c.batch().policy().runPixels()).as("whole batches until calibration says").isEqualTo(BatchPolicy.ANY_PIXELS);
    assertThat(ConfigLoader.builder().set(Map.of("batch.run.max.pixels", "100352")).load().batch().policy().runSizeFor(224 * 224))
        .isEqualTo(2);
    assertThat(c.inference().concurrency()).isEqualTo(2);
    assertThat(c.inference().threads()).isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    assertThat(c.inference().provider()).isEqualTo(InferenceProvider.CPU);
    assertThat(c.inference().modelPath())
        .isAbsolute()
        .endsWithRaw(Path.of("models/gapnet-shapes/model.onnx"));
    assertThat(c.ingest().maxInFlight()).isEqualTo(256);
    assertThat(c.ingest().maxFrameBytes()).isEqualTo(8 * 1024 * 1024);
    assertThat(c.ingest().maxPixels()).isEqualTo(16_777_216L);
    assertThat(c.ingest().pixelPoolBytes()).isEqualTo(64L << 20);
    assertThat(c.cam()).isEqualTo(new GapstreamConfig.Cam(true, false));
    assertThat(c.predictions().topK()).isEqualTo(3);
    assertThat(c.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.properties()).containsKeys(ConfigKeys.DEF.keys().keySet().toArray(String[]::new));
  }

  @Test
  void inferenceThreadsShareTheProcessorsBetweenConcurrentBatchesUnlessSet() {
    int cpus = Runtime.getRuntime().availableProcessors();
    GapstreamConfig one = ConfigLoader.builder().set(Map.of("inference.concurrency", "1")).load();
    GapstreamConfig many = ConfigLoader.builder().set(Map.of("inference.concurrency", "64")).load();
    GapstreamConfig set =
        ConfigLoader.builder().set(Map.of("inference.concurrency", "4", "inference.threads", "3")).load();

    assertThat(one.inference().threads()).isEqualTo(cpus);
    assertThat(many.inference().threads()).isEqualTo(Math.max(1, cpus / 64));
    assertThat(many.properties()).containsEntry("inference.threads", String.valueOf(Math.max(1, cpus / 64)));
    assertThat(set.inference().threads()).isEqualTo(3);
  }

  /**
   * On a GPU the workers' own CPU work outweighs the run: half the processors in slots unless set,
   * at least two, at most four; threads shared out among them.
   */
  @Test
  void cudaTakesHalfTheProcessorsInInferenceSlotsUnlessSet() {
    assertThat(ConfigKeys.cudaInferenceConcurrency(1)).isEqualTo(2);
    assertThat(ConfigKeys.cudaInferenceConcurrency(2)).isEqualTo(2);
    assertThat(ConfigKeys.cudaInferenceConcurrency(6)).isEqualTo(3);
    assertThat(ConfigKeys.cudaInferenceConcurrency(16)).isEqualTo(4);
    assertThat(ConfigKeys.cudaInferenceConcurrency(96)).isEqualTo(4);

    // As on the H200 machine's 16 cores.
    GapstreamConfig cuda = ConfigLoader.builder().processors(16).set(Map.of("inference.provider", "cuda")).load();
    GapstreamConfig set =
        ConfigLoader.builder().processors(16).set(Map.of("inference.provider", "CUDA", "inference.concurrency", "5")).load();
    GapstreamConfig cpu = ConfigLoader.builder().processors(16).set(Map.of("inference.provider", "cpu")).load();

    assertThat(cuda.inference().concurrency()).isEqualTo(4);
    assertThat(cuda.properties()).containsEntry("inference.concurrency", "4");
    assertThat(cuda.inference().threads()).isEqualTo(4);
    assertThat(set.inference().concurrency()).isEqualTo(5);
    assertThat(set.inference().threads()).isEqualTo(3);
    assertThat(cpu.inference().concurrency()).isEqualTo(2);
    assertThat(cpu.inference().threads()).isEqualTo(8);
  }

  @Test
  void laterLayersWin(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("app.yaml");
    Files.writeString(file, "batch:\n  max:\n    size: 8\n    delay.ms: 20\nhttp.port: 9000\n");

    GapstreamConfig c =
        ConfigLoader.builder()
            .file(file)
            .env(Map.of("GAPSTREAM_BATCH_MAX_SIZE", "32", "GAPSTREAM_HTTP_PORT", "9001"))
            .set("http.port", "9002")
            .load();

    assertThat(c.batch().maxSize()).isEqualTo(32); // env over file
    assertThat(c.batch().maxDelayMs()).isEqualTo(20); // file over default
    assertThat(c.httpPort()).isEqualTo(9002); // --set over env
  }

  @Test
  void nestedAndFlatYamlGiveTheSameKeys() {
    GapstreamConfig nested =
        ConfigLoader.builder()
            .yaml("kafka:\n  consumer:\n    client.rack: rack-1\ncam: {heatmap: true}\n")
            .load();
    GapstreamConfig flat =
        ConfigLoader.builder()
            .yaml("kafka.consumer.client.rack: rack-1\ncam.heatmap: true\n")
            .load();

    assertThat(nested).isEqualTo(flat);
    assertThat(flat.kafka().consumer()).containsExactly(Map.entry("client.rack", "rack-1"));
    assertThat(flat.cam().heatmap()).isTrue();
  }

  @Test
  void yamlListsJoinWithCommas() {
    GapstreamConfig c =
        ConfigLoader.builder().yaml("kafka:\n  bootstrap.servers: [a:9092, b:9092]\n").load();

    assertThat(c.kafka().bootstrapServers()).isEqualTo("a:9092,b:9092");
    assertThat(c.kafka().useEmbedded()).isFalse();
  }

  /**
   * Values are read as written, never typed by YAML 1.1: a group id 0123 was read as octal, 83, a
   * different consumer group that read the topic again from the start; "on" became "true", 1.50
   * became 1.5. As in an environment variable, where they were always kept.
   */
  @Test
  void yamlValuesAreReadAsWritten() {
    Map<String, String> flat = ConfigSources.yaml(
        "kafka:\n  group.id: 0123\n  consumer:\n    client.id: 1e3\n    ssl.key.password: 012345\n"
            + "topics: {frames: on, dead.letter: 0x1F}\ndelivery.transactional.id: 1.50\n"
            + "kafka.bootstrap.servers: [0123:9092, 'b:9092']\nhttp.port: ~\n",
        "YAML");
    assertThat(flat).containsExactly(
        Map.entry("kafka.group.id", "0123"),
        Map.entry("kafka.consumer.client.id", "1e3"),
        Map.entry("kafka.consumer.ssl.key.password", "012345"),
        Map.entry("topics.frames", "on"),
        Map.entry("topics.dead.letter", "0x1F"),
        Map.entry("delivery.transactional.id", "1.50"),
        Map.entry("kafka.bootstrap.servers", "0123:9092,b:9092"),
        Map.entry("http.port", ""));
    assertThat(ConfigLoader.builder().yaml("kafka: {group.id: 0123}").load().kafka().groupId()).isEqualTo("0123");
    // As on the command line: yes is no boolean here either.
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("cam.enabled: yes").load())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cam.enabled");
  }

  /**
   * A key given twice in one mapping, a parent key too: YAML keeps the last copy, and a file whose
   * first kafka block named the brokers started an embedded broker instead, looking healthy. A
   * second document was dropped as silently.
   */
  @Test
  void aKeyGivenTwiceOrASecondDocumentIsRefused() {
    assertThatThrownBy(() -> ConfigLoader.builder()
            .yaml("kafka:\n  bootstrap.servers: broker-0:9092\ntopics: {frames: cams}\nkafka:\n  consumer: {max.poll.records: 50}\n")
            .load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid YAML in YAML at line 4, column 6: a key given twice in one mapping ('kafka');"
            + " YAML would keep the last one only");
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("batch.max.size: 8\nbatch.max.size: 4\n").load())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("a key given twice in one mapping ('batch.max.size')");
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("batch.max.size: 8\n---\nbatch.max.size: 4\n").load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("YAML holds more than one YAML document (settings of another at line 3): only one is read; put every"
            + " setting in one");
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("kafka.bootstrap.servers: [{host: a}]").load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("kafka.bootstrap.servers: a list of plain values, not of mappings");
    assertThat(ConfigLoader.builder().yaml("").load()).isEqualTo(ConfigLoader.builder().load());
    assertThat(ConfigLoader.builder().yaml("---\n").load()).isEqualTo(ConfigLoader.builder().load());
  }

  /** Embedded-broker keys beside brokers change nothing: the load says so, once, naming them. */
  @Test
  void embeddedKeysBesideBrokersAreSaidToBeIgnored() {
    try (LogCapture log = LogCapture.of(ConfigLoader.class)) {
      ConfigLoader.builder().set(Map.of("kafka.embedded.port", "9092", "kafka.embedded.partitions", "2")).load();
      assertThat(log.events()).as("no brokers: the embedded broker takes them").isEmpty();
      ConfigLoader.builder()
          .yaml("kafka: {embedded.port: 9092, embedded.partitions: 2}")
          .env(Map.of("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"))
          .load();
      assertThat(log.messages()).containsExactly(
          "kafka.embedded.partitions, kafka.embedded.port ignored: kafka.bootstrap.servers names brokers, so no"
              + " embedded broker starts");
    }
  }

  /** Logback reads an unknown level (warning) as DEBUG: a service asked to log less logged everything. */
  @Test
  void aLogLevelLogbackDoesNotKnowFailsTheLoad() {
    assertThatThrownBy(() -> ConfigLoader.builder().env(Map.of("GAPSTREAM_LOG_LEVEL", "warning")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("environment variable GAPSTREAM_LOG_LEVEL: 'warning' is not a log level; one of TRACE, DEBUG,"
            + " INFO, WARN, ERROR, OFF (any case)");
    assertThat(ConfigLoader.builder().env(Map.of("GAPSTREAM_LOG_LEVEL", "warn")).load())
        .isEqualTo(ConfigLoader.builder().load());
  }

  @Test
  void environmentMapsToDottedKeysAndPassThroughMaps() {
    GapstreamConfig c =
        ConfigLoader.builder()
            .env(
                Map.of(
                    "GAPSTREAM_KAFKA_CONSUMER_CLIENT_RACK", "rack-1",
                    "GAPSTREAM_KAFKA_PRODUCER_COMPRESSION_TYPE", "lz4",
                    "GAPSTREAM_INFERENCE_PROVIDER", "CUDA",
                    "GAPSTREAM_DELIVERY_GUARANTEE", "exactly-once",
                    "GAPSTREAM_INGEST_MAX_FRAME_BYTES", "2MiB",
                    "GAPSTREAM_INGEST_PIXEL_POOL_BYTES", "0",
                    "GAPSTREAM_LOG_LEVEL", "DEBUG",
                    "PATH", "/usr/bin"))
            .load();

    assertThat(c.kafka().consumer())
        .containsExactly(Map.entry("client.rack", "rack-1"));
    assertThat(c.kafka().producer()).containsExactly(Map.entry("compression.type", "lz4"));
    assertThat(c.inference().provider()).isEqualTo(InferenceProvider.CUDA);
    assertThat(c.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
    assertThat(c.ingest().maxFrameBytes()).isEqualTo(2 << 20);
    assertThat(c.ingest().pixelPoolBytes()).isZero();
    assertThat(c.properties()).containsEntry("kafka.producer.compression.type", "lz4");
  }

  @Test
  void relativeModelPathFallsBackToGapstreamHome(@TempDir Path dir) throws Exception {
    Path home = dir.resolve("home");
    Files.createDirectories(home.resolve("models"));
    Files.writeString(home.resolve("models/m.onnx"), "x");
    Path cwd = Files.createDirectories(dir.resolve("cwd"));

    GapstreamConfig fromHome =
        ConfigLoader.builder()
            .workingDir(cwd)
            .home(home.toString())
            .set("inference.model.path", "models/m.onnx")
            .load();
    Files.createDirectories(cwd.resolve("models"));
    Files.writeString(cwd.resolve("models/m.onnx"), "y");
    GapstreamConfig fromCwd =
        ConfigLoader.builder()
            .workingDir(cwd)
            .home(home.toString())
            .set("inference.model.path", "models/m.onnx")
            .load();

    assertThat(fromHome.inference().modelPath()).isEqualTo(home.resolve("models/m.onnx"));
    assertThat(fromCwd.inference().modelPath()).isEqualTo(cwd.resolve("models/m.onnx"));
  }

  @Test
  void kubernetesServiceLinksAreNotConfiguration() {
    // What the kubelet gives a pod for its own Service and Strimzi's bootstrap Service, were both
    // in its namespace.
    Map<String, String> env = new HashMap<>();
    env.putAll(serviceLinks("gapstream", "10.96.0.7", "http", 8080));
    env.putAll(serviceLinks("gapstream-kafka-kafka-bootstrap", "10.96.0.9", "tcp-clients", 9092));
    env.put("GAPSTREAM_BATCH_MAX_SIZE", "8");

    GapstreamConfig c = ConfigLoader.builder().env(env).load();

    assertThat(c.batch().maxSize()).isEqualTo(8);
    assertThat(c.kafka().consumer()).isEmpty();
    assertThat(ConfigSources.serviceLinks(env))
        .hasSize(16)
        .contains("GAPSTREAM_PORT", "GAPSTREAM_SERVICE_HOST", "GAPSTREAM_SERVICE_PORT_HTTP",
            "GAPSTREAM_PORT_8080_TCP_ADDR", "GAPSTREAM_KAFKA_KAFKA_BOOTSTRAP_SERVICE_PORT")
        .doesNotContain("GAPSTREAM_BATCH_MAX_SIZE");
    // A key's own variable is the key's, whoever set it: a Service named gapstream-http would set
    // GAPSTREAM_HTTP_PORT to a URL, which fails as http.port's value, naming the variable.
    assertThatThrownBy(
            () -> ConfigLoader.builder().env(Map.of("GAPSTREAM_HTTP_PORT", "tcp://10.96.0.8:8080")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.port")
        .hasMessageContaining("GAPSTREAM_HTTP_PORT");
    // And a misspelt key is still an error, even one shaped like a link: no Service set its host.
    env.put("GAPSTREAM_KAFKA_EMBEDED_PORT", "19092");
    assertThatThrownBy(() -> ConfigLoader.builder().env(env).load())
        .hasMessageContaining("did you mean kafka.embedded.port?");
  }

  /**
   * The variables the kubelet sets for a Service with one named TCP port (Kubernetes'
   * pkg/kubelet/envvars): the service's host and ports, and the Docker-link style ones.
   */
  private static Map<String, String> serviceLinks(String service, String ip, String portName, int port) {
    String name = service.toUpperCase(Locale.ROOT).replace('-', '_');
    String url = "tcp://" + ip + ":" + port;
    String link = name + "_PORT_" + port + "_TCP";
    return Map.of(
        name + "_SERVICE_HOST", ip,
        name + "_SERVICE_PORT", String.valueOf(port),
        name + "_SERVICE_PORT_" + portName.toUpperCase(Locale.ROOT).replace('-', '_'), String.valueOf(port),
        name + "_PORT", url,
        link, url,
        link + "_PROTO", "tcp",
        link + "_PORT", String.valueOf(port),
        link + "_ADDR", ip);
  }

  @Test
  void unknownKeysAreErrorsNamingTheKeyAndItsSource() {
    assertThatThrownBy(
            () -> ConfigLoader.builder().env(Map.of("GAPSTREAM_BATCH_MAX_SIZ", "3")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "unknown configuration key batch.max.siz (from environment variable "
                + "GAPSTREAM_BATCH_MAX_SIZ); did you mean batch.max.size?");
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("batch: {maxsize: 3}").load())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("batch.maxsize")
        .hasMessageContaining("YAML");
    assertThatThrownBy(() -> ConfigLoader.builder().set("kafka.consumer.", "x").load())
        .hasMessageContaining("unknown configuration key kafka.consumer.");
  }

  /**
   * A Kafka config provider's own settings are not among the client's names, and the client reads
   * them: secrets kept in a file ({@code sasl.jaas.config=${file:...}}) failed the start as unknown
   * keys.
   */
  @Test
  void aConfigProvidersSettingsPassThrough() {
    GapstreamConfig config = ConfigLoader.builder()
        .set("kafka.consumer.config.providers", "file")
        .set("kafka.consumer.config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider")
        .set("kafka.producer.config.providers.dir.param.allowed.paths", "/secrets")
        .load();
    assertThat(config.kafka().consumer())
        .containsEntry("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider");
    assertThat(config.kafka().producer()).containsEntry("config.providers.dir.param.allowed.paths", "/secrets");
  }

  /**
   * An empty broker list starts an embedded broker. Unset, or emptied on the command line, that is
   * what the user asks for; emptied by a file or the environment (a ConfigMap value gone missing)
   * it was a deployment that went ready consuming a broker of its own.
   */
  @Test
  void brokersEmptiedByTheEnvironmentOrAFileFailTheStart() {
    assertThatThrownBy(() -> ConfigLoader.builder()
            .yaml("kafka.bootstrap.servers: kafka:9092")
            .env(Map.of("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS", ""))
            .load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("kafka.bootstrap.servers: empty (from environment variable GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS),"
            + " which would start an embedded broker in this process instead of consuming a cluster; name the"
            + " brokers, or leave the key unset for an embedded broker");
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("kafka:\n  bootstrap.servers:\n").load())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("kafka.bootstrap.servers: empty (from ");
    assertThat(ConfigLoader.builder().load().kafka().useEmbedded()).isTrue();
    assertThat(ConfigLoader.builder()
            .env(Map.of("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"))
            .set("kafka.bootstrap.servers", "")
            .load()
            .kafka()
            .useEmbedded())
        .as("emptied on the command line, as demo and bench do")
        .isTrue();
  }

  /**
   * The likeliest quoting mistake is in a JAAS line, which holds a password; YAML's parser quotes
   * the lines around an error in its message, so the error is said by line and column alone.
   */
  @Test
  void malformedYamlIsPlacedWithoutQuotingTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("gapstream.yaml");
    Files.writeString(file, "kafka:\n  consumer.sasl.jaas.config: \"org.apache.kafka.common.security.scram."
        + "ScramLoginModule required username=\"cam\" password=\"hunter2\";\"\n");
    assertThatThrownBy(() -> ConfigLoader.builder().file(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid YAML in file " + file + " at line 2, column 106: expected <block end>, but found"
            + " '<scalar>' (while parsing a block mapping)")
        .hasNoCause();
  }

  @Test
  void malformedYamlAndMissingFileAreConfigErrors(@TempDir Path dir) {
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("batch: [unclosed").load())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("invalid YAML");
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("- a\n- b\n").load())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("mapping");
    assertThatThrownBy(() -> ConfigLoader.builder().file(dir.resolve("nope.yaml")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("nope.yaml");
    assertThatThrownBy(
            () -> ConfigLoader.builder().yaml("batch.max.size: 1\nbatch: {max: {size: 2}}").load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("batch.max.size: given more than once in YAML");
  }
}
