package dev.gapstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gapstream.testing.StalledAcks;
import java.util.Map;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigValidationTest {

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
batch.max.size         | 0      | batch.max.size: 0 is out of range [1, 1024]
batch.max.size         | 1025   | batch.max.size: 1025 is out of range [1, 1024]
batch.max.size         | many   | batch.max.size: "many" is not an integer
batch.max.pixels       | 0      | batch.max.pixels: 0 is out of range [1, 134217728]
batch.max.delay.ms     | -1     | batch.max.delay.ms: -1 is out of range [0, 10000]
batch.run.max.pixels   | -1     | batch.run.max.pixels: -1 is out of range [0, 134217728]
inference.threads      | 0      | inference.threads: 0 is out of range [1, 1024]
inference.concurrency  | 65     | inference.concurrency: 65 is out of range [1, 64]
inference.provider     | tpu    | inference.provider: "tpu" is not one of [cpu, cuda]
ingest.max.in.flight   | 0      | ingest.max.in.flight: 0 is out of range [1, 100000]
ingest.max.frame.bytes | 2GiB   | ingest.max.frame.bytes: 2147483648 is out of range [1, 1073741824]
ingest.max.frame.bytes | 8 megs | ingest.max.frame.bytes: "8 megs" is not a byte size (e.g. 8388608 or 8MiB)
ingest.max.pixels      | 0      | ingest.max.pixels: 0 is out of range [1, 536870912]
ingest.max.pixels      | 536870913 | ingest.max.pixels: 536870913 is out of range [1, 536870912]
ingest.resize.max.side | -2     | ingest.resize.max.side: -2 is out of range [-1, 65535]
ingest.resize.max.side | 4K     | ingest.resize.max.side: "4K" is not an integer
ingest.max.frame.age.ms | -1    | ingest.max.frame.age.ms: -1 is out of range [0, 604800000]
ingest.decode.threads  | 0      | ingest.decode.threads: 0 is out of range [1, 256]
ingest.pixel.pool.bytes | -1    | ingest.pixel.pool.bytes: -1 is out of range [0, 1099511627776]
ingest.pixel.pool.bytes | 99999999999GiB | ingest.pixel.pool.bytes: "99999999999GiB" is too large a byte size
predictions.top.k      | 0      | predictions.top.k: 0 is out of range [1, 1000]
delivery.commit.interval.ms | 60001 | delivery.commit.interval.ms: 60001 is out of range [0, 60000]
cam.enabled            | yes    | cam.enabled: "yes" is not one of [true, false]
cam.heatmap            | 1      | cam.heatmap: "1" is not one of [true, false]
delivery.guarantee     | once   | delivery.guarantee: "once" is not one of [at-least-once, exactly-once]
http.port              | 65536  | http.port: 65536 is out of range [0, 65535]
kafka.embedded.port    | -1     | kafka.embedded.port: -1 is out of range [0, 65535]
kafka.embedded.partitions | 0   | kafka.embedded.partitions: 0 is out of range [1, 1000]
kafka.group.id         | ' '    | kafka.group.id: must not be empty
kafka.bootstrap.servers | localhost | kafka.bootstrap.servers: "localhost" is not host:port
kafka.bootstrap.servers | 'b1:9092,b2' | kafka.bootstrap.servers: "b2" is not host:port
kafka.bootstrap.servers | 'b1:9092,,b2:9092' | kafka.bootstrap.servers: "b1:9092,,b2:9092" has an empty entry; expected host:port,...
kafka.bootstrap.servers | b1:90920 | kafka.bootstrap.servers: "b1:90920" has port 90920, out of range [1, 65535]
kafka.bootstrap.servers | b1:99999999999 | kafka.bootstrap.servers: "b1:99999999999" is not host:port
topics.frames          | ''     | topics.frames: must not be empty
shutdown.timeout.ms    | -5     | shutdown.timeout.ms: -5 is out of range [0, 600000]
""")
  void eachBadValueIsRejectedNamingKeyValueAndAllowed(String key, String value, String message) {
    String v = value == null ? "" : value;

    assertThatThrownBy(() -> ConfigLoader.builder().set(key, v).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  /** A name the broker would refuse fails the start, not every lookup after it. */
  @Test
  void aTopicNameKafkaRefusesIsRejectedInKafkasWords() {
    assertThatThrownBy(() -> ConfigLoader.builder().set("topics.predictions", "bad topic!").load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("topics.predictions: Topic name is invalid: 'bad topic!' contains one or more characters other"
            + " than ASCII alphanumerics, '.', '_' and '-'");
    assertThatThrownBy(() -> ConfigLoader.builder().set("topics.dlq", "..").load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("topics.dlq: Topic name is invalid: '..' is not allowed");
    assertThatThrownBy(() -> ConfigLoader.builder().set("topics.frames", "f".repeat(250)).load())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("topics.frames: Topic name is invalid: the length of '");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
topics.predictions | frames      | topics.predictions: "frames" is also topics.frames: the pipeline would read its own predictions as frames
topics.dlq         | frames      | topics.dlq: "frames" is also topics.frames: a dead letter would be read again and dead-lettered again, without end
topics.dlq         | predictions | topics.dlq: "predictions" is also topics.predictions: the predictions' readers would meet frames
""")
  void anOutputTopicThatIsAlsoAnotherTopicIsRejected(String key, String value, String message) {
    assertThatThrownBy(() -> ConfigLoader.builder().set(key, value).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  /** Kafka refuses a topic whose name clashes with another's in '.' against '_'. */
  @Test
  void outputTopicsWhoseNamesKafkaCountsAsOneAreRejected() {
    assertThatThrownBy(() -> ConfigLoader.builder()
            .set(Map.of("topics.predictions", "cam_out", "topics.dlq", "cam.out")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("topics.dlq: \"cam.out\" and topics.predictions: \"cam_out\" differ only in '.' and '_', which"
            + " Kafka counts the same: the second topic could not be created");
    assertThatThrownBy(() -> ConfigLoader.builder()
            .set(Map.of("topics.frames", "site_1.frames", "topics.predictions", "site.1.frames")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("topics.predictions: \"site.1.frames\" and topics.frames: \"site_1.frames\"");
    assertThat(ConfigLoader.builder()
            .set(Map.of("topics.predictions", "cam.out", "topics.dlq", "cam.out.dlq")).load().topics().dlq())
        .isEqualTo("cam.out.dlq");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
kafka.consumer.enable.auto.commit | true | kafka.consumer.enable.auto.commit: "true": gapstream commits a frame's offset once its outputs are acknowledged; auto-commit would commit frames still in flight, and a crash would lose them
kafka.producer.acks               | 1    | kafka.producer.acks: "1" is not all: a frame's offset is committed once its outputs are acknowledged, which must mean every in-sync replica has them
kafka.consumer.group.id           | g2   | kafka.consumer.group.id cannot be set: set by gapstream's own key kafka.group.id
kafka.producer.bootstrap.servers  | b:9092 | kafka.producer.bootstrap.servers cannot be set: set by gapstream's own key kafka.bootstrap.servers
kafka.consumer.value.deserializer | org.apache.kafka.common.serialization.StringDeserializer | kafka.consumer.value.deserializer cannot be set: gapstream reads and writes records as bytes
kafka.producer.transactional.id   | t1   | kafka.producer.transactional.id cannot be set: a transactional producer sends nothing outside a transaction, and delivery.guarantee is at-least-once; for transactions set delivery.guarantee=exactly-once (its id: delivery.transactional.id)
kafka.producer.enable.idempotence | false | kafka.producer.enable.idempotence: "false": a retried send would be written twice and could land behind a later one; gapstream keeps each camera's outputs in order, once each per delivery
kafka.consumer.auto.offset.reset  | none | kafka.consumer.auto.offset.reset: "none": a group with no committed offset (every new one) could not read its partitions; use earliest (gapstream's default) or latest
""")
  void aPassThroughSettingTheDeliveryGuaranteeDependsOnIsRejected(String key, String value, String message) {
    assertThatThrownBy(() -> ConfigLoader.builder().set(key, value).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  /** A misspelt client setting fails the start as a misspelt key of gapstream's own does. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
kafka.consumer.max.pol.records  | 50  | unknown configuration key kafka.consumer.max.pol.records (from --set): the Kafka consumer has no setting max.pol.records; did you mean max.poll.records?
kafka.producer.linger.msec      | 5   | unknown configuration key kafka.producer.linger.msec (from --set): the Kafka producer has no setting linger.msec; did you mean linger.ms?
kafka.producer.max.poll.records | 50  | unknown configuration key kafka.producer.max.poll.records (from --set): the Kafka producer has no setting max.poll.records
kafka.consumer.schema.registry.url | http://r | unknown configuration key kafka.consumer.schema.registry.url (from --set): the Kafka consumer has no setting schema.registry.url
""")
  void aPassThroughSettingTheClientDoesNotDefineIsRejected(String key, String value, String message) {
    assertThatThrownBy(() -> ConfigLoader.builder().set(key, value).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  /**
   * A pass-through value the Kafka client would refuse fails the load, naming the key, in the
   * client's words: {@code config} passed these, and {@code run} refused them only once it had
   * started the embedded broker and the model.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
kafka.consumer.max.poll.records    | abc         | kafka.consumer.max.poll.records=abc: Invalid value abc for configuration max.poll.records: Not a number of type INT
kafka.consumer.max.poll.records    | -3          | kafka.consumer.max.poll.records=-3: Invalid value -3 for configuration max.poll.records: Value must be at least 1
kafka.producer.compression.type    | zip         | kafka.producer.compression.type=zip: Invalid value zip for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd
kafka.consumer.security.protocol   | SASL_PLAIN  | kafka.consumer.security.protocol=SASL_PLAIN: Invalid value SASL_PLAIN for configuration security.protocol: String must be one of (case insensitive): SASL_SSL, PLAINTEXT, SSL, SASL_PLAINTEXT
""")
  void aPassThroughValueTheClientWouldRefuseIsRejected(String key, String value, String message) {
    assertThatThrownBy(() -> ConfigLoader.builder().set(key, value).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  @Test
  void aRefusedPassThroughValueNamesItsSourceUnlessAProviderResolvesIt() {
    assertThatThrownBy(() -> ConfigLoader.builder().yaml("kafka.producer.linger.ms: soon\n").load())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("kafka.producer.linger.ms=soon: Invalid value soon for configuration linger.ms")
        .hasMessageEndingWith("(from YAML)");
    // A value a config provider resolves is the client's to check, once resolved.
    assertThat(ConfigLoader.builder()
            .set("kafka.consumer.config.providers", "file")
            .set("kafka.consumer.config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider")
            .set("kafka.consumer.max.poll.records", "${file:/run/secrets/kafka:records}")
            .load().kafka().consumer())
        .containsEntry("max.poll.records", "${file:/run/secrets/kafka:records}");
  }

  /** Settings each valid alone that the consumer refuses together, as README's example. */
  @Test
  void consumerSettingsTheClientRefusesTogetherAreRejected() {
    assertThatThrownBy(() -> ConfigLoader.builder()
            .set(Map.of("kafka.consumer.group.protocol", "consumer", "kafka.consumer.session.timeout.ms", "10000"))
            .load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("kafka.consumer.*: session.timeout.ms cannot be set when group.protocol=CONSUMER");
    assertThat(ConfigLoader.builder().set("kafka.consumer.group.protocol", "consumer").load().kafka().consumer())
        .containsEntry("group.protocol", "consumer");
  }

  /** Settings each valid alone, one of which the other would undo. */
  @Test
  void settingsThatContradictEachOtherFailTheStartNamingBoth() {
    assertThatThrownBy(() -> ConfigLoader.builder().set("delivery.transactional.id", "cam-7").load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("delivery.transactional.id: \"cam-7\" is set, but delivery.guarantee is at-least-once, which"
            + " uses no transactions; set delivery.guarantee=exactly-once, or leave the id empty");
    assertThatThrownBy(() -> ConfigLoader.builder().set(Map.of("cam.heatmap", "true", "cam.enabled", "false")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("cam.heatmap: true needs cam.enabled=true; with cam.enabled=false no class activation map is"
            + " computed to publish");
    assertThatThrownBy(() -> ConfigLoader.builder()
            .set(Map.of("delivery.guarantee", "exactly-once", "delivery.commit.interval.ms", "60000")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("delivery.commit.interval.ms: 60000 is not less than kafka.producer.transaction.timeout.ms (60000):"
            + " each transaction stays open that long, and the broker aborts one that outlives its timeout");
    assertThatThrownBy(() -> ConfigLoader.builder().set(Map.of("delivery.guarantee", "exactly-once",
            "delivery.commit.interval.ms", "5000", "kafka.producer.transaction.timeout.ms", "2000")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("delivery.commit.interval.ms: 5000 is not less than kafka.producer.transaction.timeout.ms (2000)");
    assertThatThrownBy(() -> ConfigLoader.builder().set(Map.of("delivery.guarantee", "exactly-once",
            "delivery.transactional.id", "cam-7", "kafka.producer.transactional.id", "cam-8")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("delivery.transactional.id: \"cam-7\" and kafka.producer.transactional.id: \"cam-8\" are both"
            + " set; the producer can have one, so set delivery.transactional.id only");
    assertThatThrownBy(() -> ConfigLoader.builder().set(Map.of("delivery.guarantee", "exactly-once",
            "kafka.consumer.isolation.level", "read_uncommitted")).load())
        .isInstanceOf(ConfigException.class)
        .hasMessage("kafka.consumer.isolation.level: \"read_uncommitted\" is not read_committed, and"
            + " delivery.guarantee is exactly-once: frames from upstream transactions that were aborted would be"
            + " predicted");
  }

  @Test
  void settingsThatAgreeAreAccepted() {
    assertThat(ConfigLoader.builder().set(Map.of("delivery.guarantee", "exactly-once",
            "delivery.transactional.id", "cam-7", "delivery.commit.interval.ms", "60000",
            "kafka.producer.transaction.timeout.ms", "120000")).load().deliveryGuarantee())
        .isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
    assertThat(ConfigLoader.builder().set("delivery.commit.interval.ms", "60000").load().commitIntervalMs())
        .as("at-least-once has no transaction to time out")
        .isEqualTo(60_000);
    assertThat(ConfigLoader.builder().set("cam.enabled", "false").load().cam().enabled()).isFalse();
  }

  @Test
  void brokersInTheFormsTheClientTakesAreAccepted() {
    GapstreamConfig c = ConfigLoader.builder()
        .set("kafka.bootstrap.servers", " b1.example:9092, 10.0.0.2:9093 ,[::1]:9094,SASL_SSL://b4:9095")
        .load();
    assertThat(c.kafka().bootstrapServers()).isEqualTo("b1.example:9092, 10.0.0.2:9093 ,[::1]:9094,SASL_SSL://b4:9095");
  }

  @Test
  void passThroughSettingsThatKeepTheGuaranteeAreAccepted() {
    GapstreamConfig c = ConfigLoader.builder()
        .set(Map.of("kafka.producer.acks", "all", "kafka.consumer.enable.auto.commit", "false",
            "kafka.consumer.auto.offset.reset", "latest", "kafka.producer.enable.idempotence", "true",
            "kafka.consumer.isolation.level", "read_uncommitted"))
        .load();
    assertThat(c.kafka().producer()).containsEntry("acks", "all");
    assertThat(c.kafka().consumer()).containsEntry("auto.offset.reset", "latest");
    GapstreamConfig exactlyOnce = ConfigLoader.builder()
        .set(Map.of("delivery.guarantee", "exactly-once", "kafka.producer.transactional.id", "t1"))
        .load();
    assertThat(exactlyOnce.kafka().producer()).containsEntry("transactional.id", "t1");
  }

  /**
   * Producer settings the producer refuses together, a class list naming a class that is not
   * there, an empty assignor list and a request size too small for a dead letter: refused here,
   * naming the key. Before, {@code config} passed them, and {@code run} failed after the broker and
   * the model (the assignors: exit 1 at subscribe, a crash loop), or, for the request size, started
   * and then published nothing, its dead letters sent again for ever.
   */
  @Test
  void clientSettingsTheClientsWouldRefuseFailTheLoad() {
    assertLoadFails(Map.of("kafka.producer.retries", "0"),
        "kafka.producer.*: Must set retries to non-zero when using the idempotent producer.");
    assertThatThrownBy(() -> load(Map.of("kafka.producer.max.in.flight.requests.per.connection", "6")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("kafka.producer.*: ")
        .hasMessageContaining("max.in.flight.requests.per.connection");
    assertThatThrownBy(() -> load(Map.of("kafka.producer.delivery.timeout.ms", "1000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageMatching("kafka\\.producer\\.\\*: delivery\\.timeout\\.ms \\(1000\\) must be at least linger\\.ms"
            + " \\+ request\\.timeout\\.ms \\(\\d+ \\+ 30000\\)");
    assertThatThrownBy(() -> load(Map.of("kafka.producer.max.request.size", "100")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("kafka.producer.*: max.request.size (100) must be at least 65536 (64 KiB)");
    assertLoadFails(Map.of("kafka.consumer.partition.assignment.strategy", ""),
        "kafka.consumer.partition.assignment.strategy=: no assignor; name at least one, or leave it unset for the"
            + " consumer's default");
    assertLoadFails(Map.of("kafka.consumer.interceptor.classes", "com.nope.Foo"),
        "kafka.consumer.interceptor.classes=com.nope.Foo: class com.nope.Foo is not on the class path");
    assertLoadFails(Map.of("kafka.producer.metric.reporters", "com.nope.Reporter"),
        "kafka.producer.metric.reporters=com.nope.Reporter: class com.nope.Reporter is not on the class path");

    assertThat(load(Map.of(
            "kafka.producer.max.request.size", "65536",
            "kafka.producer.delivery.timeout.ms", "40000",
            "kafka.producer.interceptor.classes", StalledAcks.class.getName(),
            "kafka.consumer.partition.assignment.strategy",
            CooperativeStickyAssignor.class.getName()))
        .kafka().producer())
        .containsEntry("max.request.size", "65536");
  }

  /**
   * One protocol for both clients, which reach the same brokers: SASL_SSL set for the consumer alone
   * left the producer on PLAINTEXT, a protocol the listener does not speak.
   */
  @Test
  void aSecurityProtocolForOneClientOnlyFailsTheLoad() {
    assertLoadFails(Map.of("kafka.consumer.security.protocol", "SASL_SSL"),
        "kafka.consumer.security.protocol (SASL_SSL) and kafka.producer.security.protocol (PLAINTEXT, the default)"
            + " differ: both clients reach the same brokers, kafka.bootstrap.servers, through one listener; give both"
            + " the same");
    assertThat(load(Map.of(
            "kafka.consumer.security.protocol", "SSL", "kafka.producer.security.protocol", "ssl")).kafka().producer())
        .containsEntry("security.protocol", "ssl");
  }

  private static GapstreamConfig load(Map<String, String> settings) {
    return ConfigLoader.builder().set(settings).load();
  }

  private static void assertLoadFails(Map<String, String> settings, String message) {
    assertThatThrownBy(() -> load(settings)).isInstanceOf(ConfigException.class).hasMessage(message);
  }

  @Test
  void everyDefinedKeyHasADocAndAValidDefault() {
    ConfigKeys.DEF
        .keys()
        .values()
        .forEach(
            k -> {
              assertThat(k.doc()).as(k.name()).isNotBlank();
              // The default validates, and is what its own text parses to: of the key's type.
              assertThat(ConfigKeys.DEF.parse(k.name(), null)).as(k.name()).isEqualTo(k.defaultValue());
              if (k.defaultValue() != null) {
                assertThat(ConfigKeys.DEF.parse(k.name(), String.valueOf(k.defaultValue())))
                    .as(k.name())
                    .isEqualTo(k.defaultValue());
              }
            });
  }

  @Test
  void redactedViewMasksSecretsAndIsSorted() {
    GapstreamConfig c =
        ConfigLoader.builder()
            .set(
                Map.of(
                    "kafka.consumer.sasl.jaas.config", "PlainLoginModule required password=\"p\";",
                    "kafka.producer.ssl.key.password", "kp",
                    "kafka.producer.ssl.keystore.password", "ksp",
                    "kafka.producer.ssl.truststore.password", "tsp",
                    "kafka.consumer.sasl.oauthbearer.token.endpoint.url", "https://idp/token",
                    "kafka.consumer.sasl.oauthbearer.client.credentials.client.secret", "s",
                    "kafka.consumer.client.rack", "rack-1"))
            .load();

    String view = c.redactedView();

    assertThat(view).doesNotContain("password=\"p\"", "=kp", "=ksp", "=tsp", "=s\n");
    assertThat(view)
        .contains("kafka.consumer.sasl.jaas.config=[redacted]")
        .contains("kafka.producer.ssl.key.password=[redacted]")
        .contains("kafka.producer.ssl.keystore.password=[redacted]")
        .contains("kafka.producer.ssl.truststore.password=[redacted]")
        .contains("kafka.consumer.sasl.oauthbearer.client.credentials.client.secret=[redacted]")
        .contains("kafka.consumer.client.rack=rack-1")
        .contains("batch.max.size=16");
    assertThat(view.lines().map(line -> line.substring(0, line.indexOf('='))).toList()).as("sorted by key").isSorted();
  }
}
