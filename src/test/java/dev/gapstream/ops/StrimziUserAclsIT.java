package dev.gapstream.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gapstream.cli.CliRun;
import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.KafkaState;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.TestPipelines;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code KafkaUser} that {@code k8s/strimzi} ships grants everything the pipeline does: its ACLs,
 * read from the rendered manifest, on a broker that authorizes every request (Kafka's {@code
 * StandardAuthorizer}, as Strimzi's {@code simple} authorization configures it), and gapstream
 * connecting over SASL as that user in exactly-once mode, the mode that asks the most: the group's
 * offsets in transactions under its transactional id, and each output topic's {@code
 * max.message.bytes} read at start-up. A missing operation shows as a pipeline that never joins, or
 * that stops; without {@code DescribeConfigs} on the predictions topic, the prediction over its limit
 * here doomed a transaction and stopped the pipeline. And the runbook's {@code replay}, run in the
 * service's pod with its configuration, as the same user.
 */
@ExtendWith(BlockedThreadGuard.class)
class StrimziUserAclsIT {

  private static final String PASSWORD = "pw-acl-test";
  private static final int PREDICTIONS_LIMIT = 3_000;

  @Test
  void theShippedUsersAclsAreEnoughForExactlyOnceAndReplay(@TempDir Path tmp) throws Exception {
    JsonNode user = Manifests.only(Manifests.render("k8s/strimzi"), "KafkaUser");
    String name = user.at("/metadata/name").asText();
    try (EmbeddedKafka broker = EmbeddedKafka.builder()
            .saslUsers(Map.of(name, PASSWORD))
            .brokerProperty("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
            .brokerProperty("super.users", "User:ANONYMOUS") // the test's own clients, on the plain listener
            .start();
        Admin admin = broker.admin()) {
      KafkaState.createTopics(broker, 2);
      List<AclBinding> acls = acls(user, "User:" + name);
      admin.createAcls(acls).all().get();
      admin.incrementalAlterConfigs(Map.of(
              new ConfigResource(ConfigResource.Type.TOPIC, "predictions"),
              List.of(new AlterConfigOp(
                  new ConfigEntry("max.message.bytes", String.valueOf(PREDICTIONS_LIMIT)), AlterConfigOp.OpType.SET))))
          .all().get();
      System.out.println("ACLs of KafkaUser " + name + ": " + acls.size());

      Map<String, String> settings = new HashMap<>(TestPipelines.saslPlain(broker.saslBootstrapServers(), name, PASSWORD));
      settings.put("delivery.guarantee", "exactly-once");
      settings.put("cam.heatmap", "true");
      // A 640x480 frame at its own size, so that its prediction's heatmap is over the topic's limit.
      settings.put("ingest.resize.max.side", "0");
      try (GapstreamService service = TestPipelines.start(settings);
          Outputs out = Outputs.read(broker.bootstrapServers(), Map.of("isolation.level", "read_committed"))) {
        String group = service.config().kafka().groupId();
        await().atMost(Duration.ofMinutes(1)).until(() -> KafkaState.members(admin, group) == 1);

        byte[] small = FrameFeed.jpegs(1, 64, 64, 3).get(0);
        byte[] large = FrameFeed.jpegs(1, 640, 480, 4).get(0);
        List<String> ids = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = FrameFeed.producer(broker.bootstrapServers(), Map.of())) {
          for (int i = 0; i < 10; i++) {
            String id = "acl-" + i;
            byte[] value = i == 4 ? large : i == 7 ? "not an image".getBytes(StandardCharsets.UTF_8) : small;
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>("frames", value);
            record.headers().add("frame-id", id.getBytes(StandardCharsets.UTF_8));
            producer.send(record).get();
            ids.add(id);
          }
        }
        Outputs.Tally tally = out.await(ids, Duration.ofMinutes(1));
        System.out.println("as the shipped KafkaUser, exactly-once: " + tally);

        assertThat(tally.lost()).as(tally.toString()).isZero();
        assertThat(tally.predicted()).as(tally.toString()).isEqualTo(8);
        assertThat(Outputs.header(out.deadLetters("acl-4").get(0), "dlq-reason")).isEqualTo("too-large");
        assertThat(out.deadLetters("acl-7")).hasSize(1);
        assertThat(TestPipelines.get(service, "/health/live").statusCode()).isEqualTo(200);
        var ends = new HashMap<>(KafkaState.endOffsets(admin, "frames"));
        ends.values().removeIf(end -> end == 0);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(KafkaState.committed(admin, group, "frames")).isEqualTo(ends));

        // The runbook's replay, run with the service's configuration and so as the same user
        // (docs/OPERATIONS.md): it reads frames.dlq and sends the broken frame back to frames,
        // where the pipeline dead-letters it again.
        Path config = Files.writeString(tmp.resolve("service.yaml"), new YAMLMapper().writeValueAsString(settings));
        JsonNode summary = CliRun.of("replay", "--config", config.toString(), "--reason", "unsupported-format").report();
        System.out.println("replay as the shipped KafkaUser: " + summary);
        assertThat(summary.path("sent").asLong()).isEqualTo(1);
        assertThat(summary.path("failed").asLong()).isZero();
        await().atMost(Duration.ofMinutes(1)).until(() -> out.deadLetters("acl-7").size() == 2);
      }
    }
  }

  /** The user's {@code spec.authorization.acls}: bindings allowing its principal, from any host. */
  private static List<AclBinding> acls(JsonNode user, String principal) {
    assertThat(user.at("/spec/authorization/type").asText()).isEqualTo("simple");
    List<AclBinding> bindings = new ArrayList<>();
    for (JsonNode acl : user.at("/spec/authorization/acls")) {
      JsonNode resource = acl.path("resource");
      ResourcePattern pattern = new ResourcePattern(
          ResourceType.valueOf(upperSnake(resource.path("type").asText())),
          resource.path("type").asText().equals("cluster") ? "kafka-cluster" : resource.path("name").asText(),
          resource.path("patternType").asText("literal").equals("prefix") ? PatternType.PREFIXED : PatternType.LITERAL);
      for (JsonNode operation : acl.path("operations")) {
        bindings.add(new AclBinding(pattern, new AccessControlEntry(
            principal, "*", AclOperation.valueOf(upperSnake(operation.asText())), AclPermissionType.ALLOW)));
      }
    }
    return bindings;
  }

  /** Strimzi's names to Kafka's enum names: {@code DescribeConfigs} → {@code DESCRIBE_CONFIGS}. */
  private static String upperSnake(String camel) {
    return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }
}
