package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gapstream.config.ConfigKeys;
import dev.gapstream.config.GapstreamConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
  void scaledObjectScalesOnTheFramesLagOfOurGroup(String dir, @TempDir Path tmp) throws Exception {
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

    assertScalingIsDamped(spec);

    // The pods' group and topic as they run: an overlay's GAPSTREAM_KAFKA_GROUP_ID beats app.yaml.
    GapstreamConfig config = KubernetesManifestsTest.podConfig(docs, tmp);
    assertThat(spec.path("triggers")).hasSize(1).allSatisfy(t -> {
      assertThat(fieldNames(t)).isSubsetOf(TRIGGER);
      assertThat(t.path("type").asText()).isEqualTo("kafka");
      JsonNode md = t.path("metadata");
      assertThat(fieldNames(md)).as("kafka trigger metadata").isSubsetOf(KAFKA_METADATA)
          .contains("bootstrapServers", "consumerGroup", "topic", "lagThreshold");
      assertThat(md.path("consumerGroup").asText()).isEqualTo(config.kafka().groupId());
      assertThat(md.path("topic").asText()).isEqualTo(config.topics().frames());
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

  /**
   * Every replica change rebalances the group, so scale-down waits and goes a replica at a time,
   * and scale-up is capped. That is the HPA's behaviour: KEDA's {@code cooldownPeriod}, which the
   * manifest used to rely on, applies only to scaling to zero, which a minimum of 1 never does.
   */
  private static void assertScalingIsDamped(JsonNode spec) {
    if (spec.path("minReplicaCount").asInt() > 0) {
      assertThat(spec.has("cooldownPeriod")).as("cooldownPeriod without scaling to zero does nothing").isFalse();
    }
    assertThat(fieldNames(spec.path("advanced"))).isSubsetOf(
        Set.of("horizontalPodAutoscalerConfig", "restoreToOriginalReplicaCount", "scalingModifiers"));
    JsonNode hpa = spec.at("/advanced/horizontalPodAutoscalerConfig");
    assertThat(fieldNames(hpa)).isSubsetOf(Set.of("name", "behavior"));
    JsonNode behavior = hpa.path("behavior");
    assertThat(fieldNames(behavior)).containsExactlyInAnyOrder("scaleUp", "scaleDown");
    for (String direction : List.of("scaleUp", "scaleDown")) {
      JsonNode rules = behavior.path(direction);
      assertThat(fieldNames(rules)).as(direction).isSubsetOf(Set.of("stabilizationWindowSeconds", "selectPolicy", "policies"));
      assertThat(rules.path("stabilizationWindowSeconds").asInt(-1)).as(direction).isBetween(0, 3600);
      assertThat(rules.path("policies")).as(direction).isNotEmpty().allSatisfy(policy -> {
        assertThat(fieldNames(policy)).containsExactlyInAnyOrder("type", "value", "periodSeconds");
        assertThat(policy.path("type").asText()).isIn("Pods", "Percent");
        assertThat(policy.path("value").asInt()).isPositive();
        assertThat(policy.path("periodSeconds").asInt()).isBetween(1, 1800);
      });
    }
    JsonNode down = behavior.path("scaleDown");
    assertThat(down.path("stabilizationWindowSeconds").asInt()).as("scale-down waits").isGreaterThanOrEqualTo(300);
    assertThat(down.path("policies")).as("scale-down goes a replica at a time")
        .allSatisfy(p -> assertThat(p.path("type").asText() + " " + p.path("value").asInt()).isEqualTo("Pods 1"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"k8s/strimzi", "k8s/strimzi-dev"})
  void strimziClusterIsKraftWithTheTopicsGapstreamUses(String dir) throws Exception {
    List<JsonNode> docs = Manifests.render(dir);
    assertThat(docs).allSatisfy(d ->
        assertThat(d.path("apiVersion").asText()).isEqualTo("kafka.strimzi.io/v1"));
    JsonNode kafka = Manifests.only(docs, "Kafka");
    String cluster = kafka.at("/metadata/name").asText();
    JsonNode pool = Manifests.only(docs, "KafkaNodePool");
    assertThat(pool.at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo(cluster);
    assertThat(pool.at("/spec/roles")).extracting(JsonNode::asText).contains("controller", "broker");

    Map<String, String> config = appConfig(Manifests.render("k8s/base"));
    Set<String> topics = new HashSet<>();
    docs.stream().filter(d -> d.path("kind").asText().equals("KafkaTopic")).forEach(t -> {
      assertThat(t.at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo(cluster);
      topics.add(t.at("/metadata/name").asText());
    });
    assertThat(topics).contains(config.get("topics.frames"), config.get("topics.predictions"),
        config.get("topics.dlq"));
  }

  /**
   * The Kafka resources the steps of docs/OPERATIONS.md apply for an overlay name what its pods use
   * as they run (app.yaml under the overlay's GAPSTREAM_* variables): the three topics, and where
   * the pods authenticate, the KafkaUser whose Secret they read, allowed every operation the
   * pipeline does on those names. ({@code StrimziUserAclsIT} runs the pipeline under those ACLs
   * with gapstream's default names; this ties them to the names the overlays give it.)
   */
  @ParameterizedTest
  @ValueSource(strings = {"dev", "prod", "gpu"})
  void theKafkaResourcesNameWhatEachOverlaysPodsUse(String overlay, @TempDir Path tmp) throws Exception {
    List<JsonNode> docs = Manifests.render("k8s/overlays/" + overlay);
    GapstreamConfig config = KubernetesManifestsTest.podConfig(docs, tmp);
    List<JsonNode> kafka = Manifests.render(kafkaTheStepsApplyWith(overlay));
    Set<String> topics = new HashSet<>();
    kafka.stream().filter(d -> d.path("kind").asText().equals("KafkaTopic"))
        .forEach(t -> topics.add(t.at("/spec/topicName").asText(t.at("/metadata/name").asText())));
    GapstreamConfig.Topics used = config.topics();
    assertThat(topics).as("%s: KafkaTopics", overlay).contains(used.frames(), used.predictions(), used.dlq());

    Set<String> secrets = new HashSet<>();
    KubernetesManifestsTest.gapstream(KubernetesManifestsTest.pod(docs)).getEnv().stream()
        .filter(e -> e.getName().startsWith("GAPSTREAM_KAFKA_") && e.getValueFrom() != null
            && e.getValueFrom().getSecretKeyRef() != null)
        .forEach(e -> secrets.add(e.getValueFrom().getSecretKeyRef().getName()));
    if (secrets.isEmpty()) {
      return; // the dev listener: unauthenticated clients, superusers
    }
    // Strimzi names the user's Secret after the KafkaUser.
    assertThat(secrets).as("%s: the Kafka credentials' Secret", overlay).hasSize(1);
    String secret = secrets.iterator().next();
    JsonNode user = kafka.stream()
        .filter(d -> d.path("kind").asText().equals("KafkaUser") && d.at("/metadata/name").asText().equals(secret))
        .findFirst()
        .orElseThrow(() -> new AssertionError(overlay + ": no KafkaUser " + secret + " for the pods' Secret"));
    assertAllowed(user, "topic", used.frames(), "Read", "Describe");
    assertAllowed(user, "group", config.kafka().groupId(), "Read", "Describe");
    for (String output : List.of(used.predictions(), used.dlq())) {
      assertAllowed(user, "topic", output, "Write", "Describe", "DescribeConfigs");
    }
  }

  /** The KafkaUser's simple ACLs allow {@code operations} on the resource {@code type}/{@code name}. */
  private static void assertAllowed(JsonNode user, String type, String name, String... operations) {
    Set<String> allowed = new HashSet<>();
    for (JsonNode acl : user.at("/spec/authorization/acls")) {
      JsonNode resource = acl.path("resource");
      String pattern = resource.path("name").asText();
      boolean matches = resource.path("type").asText().equals(type)
          && (resource.path("patternType").asText("literal").equals("prefix")
              ? name.startsWith(pattern)
              : pattern.equals(name) || pattern.equals("*"));
      if (matches && !acl.path("type").asText("allow").equals("deny")) {
        acl.path("operations").forEach(op -> allowed.add(op.asText()));
      }
    }
    if (!allowed.contains("All")) {
      assertThat(allowed).as("KafkaUser %s on %s %s", user.at("/metadata/name").asText(), type, name)
          .contains(operations);
    }
  }

  /**
   * What the production steps of docs/OPERATIONS.md apply lets no client in unauthenticated: with
   * a plain listener and ANONYMOUS a superuser, any pod reaching the brokers would bypass SCRAM and
   * every KafkaUser's ACLs. The prod and gpu overlays reach it over TLS with SCRAM-SHA-512, the
   * pods and KEDA alike.
   */
  @ParameterizedTest
  @ValueSource(strings = {"prod", "gpu"})
  void theProductionStepsApplyAKafkaThatAuthenticatesEveryClient(String overlay) throws Exception {
    JsonNode kafka = Manifests.only(Manifests.render(kafkaTheStepsApplyWith(overlay)), "Kafka");
    assertThat(kafka.at("/spec/kafka/listeners")).isNotEmpty().allSatisfy(l -> {
      assertThat(l.path("tls").asBoolean()).as("listener %s uses TLS", l.path("name").asText()).isTrue();
      assertThat(l.at("/authentication/type").asText()).as("listener %s authenticates", l.path("name").asText())
          .isNotEmpty();
    });
    assertThat(kafka.at("/spec/kafka/authorization/type").asText()).isEqualTo("simple");
    assertThat(kafka.at("/spec/kafka/authorization/superUsers")).extracting(JsonNode::asText)
        .noneMatch(user -> user.toUpperCase(Locale.ROOT).endsWith("ANONYMOUS"));

    JsonNode listener = listenerOf(kafka, "k8s/overlays/" + overlay);
    assertThat(listener.at("/authentication/type").asText()).isEqualTo("scram-sha-512");
    List<JsonNode> docs = Manifests.render("k8s/overlays/" + overlay);
    assertThat(KubernetesManifestsTest.env(docs))
        .containsEntry("GAPSTREAM_KAFKA_CONSUMER_SECURITY_PROTOCOL", "SASL_SSL")
        .containsEntry("GAPSTREAM_KAFKA_PRODUCER_SECURITY_PROTOCOL", "SASL_SSL")
        .containsEntry("GAPSTREAM_KAFKA_CONSUMER_SASL_MECHANISM", "SCRAM-SHA-512")
        .containsEntry("GAPSTREAM_KAFKA_PRODUCER_SASL_MECHANISM", "SCRAM-SHA-512");
    JsonNode keda = Manifests.only(docs, "TriggerAuthentication");
    assertThat(keda.at("/spec/secretTargetRef")).extracting(ref -> ref.path("parameter").asText())
        .contains("sasl", "username", "password", "tls", "ca");
    assertThat(Manifests.only(docs, "ScaledObject").at("/spec/triggers/0/authenticationRef/name").asText())
        .isEqualTo(keda.at("/metadata/name").asText());
  }

  /**
   * The dev steps' Kafka is the production one plus what the dev overlay uses: a plain listener,
   * whose clients are ANONYMOUS and so must be superusers (no KafkaUser can grant them ACLs), and
   * nothing else.
   */
  @Test
  void theDevStepsApplyTheListenerTheDevOverlayUses() throws Exception {
    String overlay = "dev";
    String dir = kafkaTheStepsApplyWith(overlay);
    List<JsonNode> docs = Manifests.render(dir);
    JsonNode kafka = Manifests.only(docs, "Kafka");
    JsonNode listener = listenerOf(kafka, "k8s/overlays/" + overlay);
    assertThat(listener.path("tls").asBoolean()).isFalse();
    assertThat(listener.has("authentication")).isFalse();
    assertThat(KubernetesManifestsTest.env(Manifests.render("k8s/overlays/" + overlay)))
        .doesNotContainKeys("GAPSTREAM_KAFKA_CONSUMER_SECURITY_PROTOCOL", "GAPSTREAM_KAFKA_PRODUCER_SECURITY_PROTOCOL");
    assertThat(kafka.at("/spec/kafka/authorization/superUsers")).extracting(JsonNode::asText)
        .contains("ANONYMOUS");

    // Less the listener and the superuser, what production applies.
    ArrayNode listeners = (ArrayNode) kafka.at("/spec/kafka/listeners");
    for (int i = listeners.size() - 1; i >= 0; i--) {
      if (listeners.get(i) == listener) {
        listeners.remove(i);
      }
    }
    ((ObjectNode) kafka.at("/spec/kafka/authorization")).remove("superUsers");
    assertThat(docs).containsExactlyInAnyOrderElementsOf(Manifests.render(kafkaTheStepsApplyWith("prod")));
  }

  /** The Kafka listener that {@code overlay}'s bootstrap servers (the pods' and KEDA's) name. */
  private static JsonNode listenerOf(JsonNode kafka, String overlay) throws Exception {
    String bootstrap = KubernetesManifestsTest.env(Manifests.render(overlay)).get("GAPSTREAM_KAFKA_BOOTSTRAP_SERVERS");
    String host = kafka.at("/metadata/name").asText() + "-kafka-bootstrap."
        + kafka.at("/metadata/namespace").asText() + ".svc:";
    assertThat(bootstrap).as("%s's bootstrap servers", overlay).startsWith(host);
    int port = Integer.parseInt(bootstrap.substring(host.length()));
    List<JsonNode> listeners = new ArrayList<>();
    kafka.at("/spec/kafka/listeners").forEach(l -> { if (l.path("port").asInt() == port) listeners.add(l); });
    assertThat(listeners).as("%s's Kafka has a listener on %s", overlay, port).hasSize(1);
    return listeners.get(0);
  }

  /**
   * The directory the fenced block of docs/OPERATIONS.md that deploys {@code overlay} (named in its
   * {@code kubectl kustomize} line, or after "# or" there) gives {@code kubectl apply -k}.
   */
  private static String kafkaTheStepsApplyWith(String overlay) throws Exception {
    String docs = Files.readString(ExternalTool.repoRoot().resolve("docs/OPERATIONS.md"));
    Pattern deploys = Pattern.compile("(?m)^kubectl kustomize k8s/overlays/(" + Pattern.quote(overlay)
        + "\\b|\\S+ .*# or .*\\b" + Pattern.quote(overlay) + "\\b)");
    List<String> applied = new ArrayList<>();
    String[] parts = docs.split("(?m)^```.*$");
    for (int i = 1; i < parts.length; i += 2) {
      if (deploys.matcher(parts[i]).find()) {
        Matcher apply = Pattern.compile("(?m)^kubectl apply -k (\\S+)").matcher(parts[i]);
        while (apply.find()) {
          applied.add(apply.group(1));
        }
      }
    }
    assertThat(applied).as("Kafka applied in the steps that deploy the %s overlay", overlay).hasSize(1);
    return applied.get(0);
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
