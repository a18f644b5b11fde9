package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gapstream.config.ConfigKeys;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * KEDA and Strimzi resources have no well-kept Java model that fits our Jackson line, so their
 * fields are checked against the documented field names here, plus the cross-file facts that
 * matter: lag is measured for the group and topic gapstream uses, and replicas never exceed the
 * frames partitions.
 */
class ScalingAndKafkaResourcesTest {

  private static final Set<String> SCALED_OBJECT_SPEC =
      Set.of("scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval",
          "cooldownPeriod", "idleReplicaCount", "initialCooldownPeriod", "fallback", "advanced",
          "triggers");
  private static final Set<String> TRIGGER = Set.of("type", "name", "metadata",
      "authenticationRef", "metricType", "useCachedMetrics");
  private static final Set<String> KAFKA_METADATA = Set.of("bootstrapServers", "consumerGroup",
      "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers",
      "excludePersistentLag", "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag",
      "partitionLimitation", "version", "sasl", "tls", "unsafeSsl");
  private static final Set<String> KAFKA_AUTH_PARAMETERS = Set.of("sasl", "username", "password",
      "tls", "ca", "cert", "key", "keyPassword", "keyEncoding");
  private static final ObjectMapper YAML = new YAMLMapper();

  @ParameterizedTest
  @ValueSource(strings = {"k8s/base", "k8s/overlays/prod", "k8s/overlays/gpu"})
  void scaledObjectScalesOnTheFramesLagOfOurGroup(String dir) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    JsonNode so = Manifests.only(docs, "ScaledObject");
    JsonNode spec = so.path("spec");
    assertThat(fieldNames(spec)).as("ScaledObject spec fields").isSubsetOf(SCALED_OBJECT_SPEC);
    assertThat(spec.at("/scaleTargetRef/kind").asText()).isEqualTo("Deployment");
    assertThat(spec.at("/scaleTargetRef/name").asText())
        .isEqualTo(Manifests.only(docs, "Deployment").at("/metadata/name").asText());

    int min = spec.path("minReplicaCount").asInt();
    int max = spec.path("maxReplicaCount").asInt();
    assertThat(min).isGreaterThanOrEqualTo(1).isLessThanOrEqualTo(max);
    assertThat(max).as("maxReplicaCount <= frames partitions").isLessThanOrEqualTo(framesPartitions());

    Map<String, String> config = appConfig(docs);
    assertThat(spec.path("triggers")).hasSize(1).allSatisfy(t -> {
      assertThat(fieldNames(t)).isSubsetOf(TRIGGER);
      assertThat(t.path("type").asText()).isEqualTo("kafka");
      JsonNode md = t.path("metadata");
      assertThat(fieldNames(md)).as("kafka trigger metadata").isSubsetOf(KAFKA_METADATA)
          .contains("bootstrapServers", "consumerGroup", "topic", "lagThreshold");
      assertThat(md.path("consumerGroup").asText()).isEqualTo(config.get("kafka.group.id"));
      assertThat(md.path("topic").asText()).isEqualTo(config.get("topics.frames"));
      assertThat(Integer.parseInt(md.path("lagThreshold").asText())).isPositive();
      assertThat(md.path("bootstrapServers").asText())
          .isEqualTo(KubernetesManifestsTest.env(docs).get("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS"));
      if (t.has("authenticationRef")) {
        String auth = t.at("/authenticationRef/name").asText();
        JsonNode ta = Manifests.only(docs, "TriggerAuthentication");
        assertThat(ta.at("/metadata/name").asText()).isEqualTo(auth);
        assertThat(ta.at("/spec/secretTargetRef")).allSatisfy(ref ->
            assertThat(ref.path("parameter").asText()).isIn(KAFKA_AUTH_PARAMETERS));
      }
    });
  }

  @Test
  void strimziClusterIsKraftWithTheTopicsGapstreamUses() throws Exception {
    List<JsonNode> docs = Manifests.render("k8s/strimzi");
    assertThat(docs).allSatisfy(d ->
        assertThat(d.path("apiVersion").asText()).isEqualTo("kafka.strimzi.io/v1"));
    JsonNode kafka = Manifests.only(docs, "Kafka");
    String cluster = kafka.at("/metadata/name").asText();
    JsonNode pool = Manifests.only(docs, "KafkaNodePool");
    assertThat(pool.at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo(cluster);
    assertThat(pool.at("/spec/roles")).extracting(JsonNode::asText).contains("controller", "broker");
    assertThat(kafka.at("/spec/kafka/listeners")).extracting(l -> l.path("port").asInt())
        .contains(9092, 9093);

    Map<String, String> config = appConfig(Manifests.render("k8s/base"));
    Set<String> topics = new HashSet<>();
    docs.stream().filter(d -> d.path("kind").asText().equals("KafkaTopic")).forEach(t -> {
      assertThat(t.at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo(cluster);
      topics.add(t.at("/metadata/name").asText());
    });
    assertThat(topics).contains(config.get("topics.frames"), config.get("topics.predictions"),
        config.get("topics.dlq"));
    String bootstrap = KubernetesManifestsTest.env(Manifests.render("k8s/base"))
        .get("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS");
    assertThat(bootstrap).isEqualTo(cluster + "-kafka-bootstrap."
        + kafka.at("/metadata/namespace").asText() + ".svc:9092");
  }

  /**
   * gapstream takes frames of up to {@code ingest.max.frame.bytes} and gives a dead letter 64 KiB
   * more for its key and headers; both topics must take such a record, or a producer's frame that
   * gapstream would classify is refused at the broker, and its dead letter goes without it.
   */
  @Test
  void framesAndDeadLetterTopicsTakeTheLargestFrameWithItsHeaders() {
    long maxFrameBytes = ((Number) ConfigKeys.DEF.keys().get(ConfigKeys.INGEST_MAX_FRAME_BYTES).defaultValue()).longValue();
    Map<String, Long> limits = new HashMap<>();
    Manifests.render("k8s/strimzi").stream()
        .filter(d -> d.path("kind").asText().equals("KafkaTopic"))
        .forEach(t -> limits.put(t.at("/metadata/name").asText(), t.at("/spec/config/max.message.bytes").asLong()));
    assertThat(limits.get("frames")).isGreaterThanOrEqualTo(maxFrameBytes + (64L << 10));
    assertThat(limits.get("frames.dlq")).isGreaterThanOrEqualTo(maxFrameBytes + (64L << 10));
  }

  private static int framesPartitions() {
    return Manifests.render("k8s/strimzi").stream()
        .filter(d -> d.path("kind").asText().equals("KafkaTopic"))
        .filter(d -> d.at("/metadata/name").asText().equals("frames"))
        .findFirst().orElseThrow().at("/spec/partitions").asInt();
  }

  /** The flat keys of app.yaml inside the rendered ConfigMap. */
  private static Map<String, String> appConfig(List<JsonNode> docs) throws Exception {
    String appYaml = KubernetesManifestsTest.env(docs).get("app.yaml");
    return YAML.readValue(appYaml, new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() {});
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
