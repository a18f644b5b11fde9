package dev.gapstream.config;

import dev.gapstream.config.GapstreamConfig.Batch;
import dev.gapstream.config.GapstreamConfig.Cam;
import dev.gapstream.config.GapstreamConfig.Embedded;
import dev.gapstream.config.GapstreamConfig.Inference;
import dev.gapstream.config.GapstreamConfig.Ingest;
import dev.gapstream.config.GapstreamConfig.KafkaSettings;
import dev.gapstream.config.GapstreamConfig.Predictions;
import dev.gapstream.config.GapstreamConfig.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the {@link GapstreamConfig} at start-up from layers, each overriding the one before:
 * defaults &lt; YAML file &lt; environment ({@code GAPSTREAM_*}) &lt; explicit overrides (CLI
 * {@code --set key=value}). Keys outside {@link ConfigKeys#DEF} and the {@code kafka.consumer.} /
 * {@code kafka.producer.} pass-through prefixes are rejected, and so are pass-through names the
 * Kafka client does not define, so a typo fails the start instead of being ignored.
 *
 * <p>Not thread safe; use one loader from one thread. {@code load()} may be called repeatedly.
 */
public final class ConfigLoader {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  private static final String COMMAND_LINE = "--set";
  /** The variable logback.xml reads for the root logger's level. */
  static final String LOG_LEVEL_VARIABLE = "GAPSTREAM_LOG_LEVEL";
  private static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");
  private static final String EMBEDDED_PREFIX = "kafka.embedded.";
  /** The Kafka producer's own {@code transaction.timeout.ms} default. */
  private static final long DEFAULT_TRANSACTION_TIMEOUT_MS = ((Number)
      ProducerConfig.configDef().defaultValues().get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)).longValue();

  private final Map<String, String> raw = new HashMap<>();
  private final Map<String, String> origin = new HashMap<>();
  private Path workingDir = Path.of("").toAbsolutePath();
  private String home = System.getProperty("gapstream.home");
  private int processors = ConfigKeys.CPUS;

  private ConfigLoader() {}

  /** A loader with no layers yet: {@code load()} now gives the defaults. */
  public static ConfigLoader builder() {
    return new ConfigLoader();
  }

  /**
   * The usual start-up: optional file, then the process environment, then CLI overrides.
   *
   * @param file YAML file, or {@code null} for none
   */
  public static GapstreamConfig load(Path file, Map<String, String> overrides) {
    ConfigLoader loader = builder();
    if (file != null) {
      loader.file(file);
    }
    return loader.env(System.getenv()).set(overrides).load();
  }

  /**
   * The processors that {@code inference.concurrency} (with CUDA) and {@code inference.threads}
   * are derived from where not set: by default the JVM's (tests give another machine's).
   */
  ConfigLoader processors(int cpus) {
    this.processors = cpus;
    return this;
  }

  /** Adds a YAML file layer (nested or flat dotted keys). */
  public ConfigLoader file(Path file) {
    return layer(ConfigSources.yamlFile(file), "file " + file);
  }

  /** Adds a YAML layer from text (tests, embedded defaults). */
  public ConfigLoader yaml(String text) {
    return layer(ConfigSources.yaml(text, "YAML"), "YAML");
  }

  /**
   * Adds the environment layer: {@code GAPSTREAM_*} variables only, less the ones Kubernetes sets
   * for Services whose names start with {@code gapstream} (logged, not rejected: the pod's owner
   * did not write them).
   */
  public ConfigLoader env(Map<String, String> env) {
    checkLogLevel(env.get(LOG_LEVEL_VARIABLE));
    ConfigSources.envKeys(env)
        .forEach((key, var) -> put(key, env.get(var), "environment variable " + var));
    List<String> links = ConfigSources.serviceLinks(env);
    if (!links.isEmpty()) {
      LOG.info(
          "Ignoring {} Kubernetes service-link variable(s), not configuration: {} "
              + "(the pod's enableServiceLinks: false leaves them out)",
          links.size(), String.join(", ", links));
    }
    return this;
  }

  /**
   * Logback takes a level it does not know ({@code warning}) for DEBUG, and a service asked to log
   * less logged everything.
   */
  private static void checkLogLevel(String level) {
    if (level != null && !LOG_LEVELS.contains(level.strip().toUpperCase(Locale.ROOT))) {
      throw new ConfigException("environment variable " + LOG_LEVEL_VARIABLE + ": '" + level + "' is not a log level;"
          + " one of " + String.join(", ", LOG_LEVELS) + " (any case)");
    }
  }

  /**
   * {@code kafka.embedded.*} given beside brokers change nothing, as no embedded broker starts: said,
   * not refused, since one file may serve a laptop (brokers unset) and a cluster (brokers from the
   * environment).
   */
  private void warnOfIgnoredEmbeddedKeys(Map<String, Object> v) {
    if (str(v, ConfigKeys.KAFKA_BOOTSTRAP_SERVERS).isBlank()) {
      return;
    }
    List<String> ignored = raw.keySet().stream().filter(k -> k.startsWith(EMBEDDED_PREFIX)).sorted().toList();
    if (!ignored.isEmpty()) {
      LOG.warn("{} ignored: {} names brokers, so no embedded broker starts",
          String.join(", ", ignored), ConfigKeys.KAFKA_BOOTSTRAP_SERVERS);
    }
  }

  /** Adds one explicit override (highest precedence). */
  public ConfigLoader set(String key, String value) {
    put(key, Objects.requireNonNull(value, key), COMMAND_LINE);
    return this;
  }

  /** Adds explicit overrides (highest precedence). */
  public ConfigLoader set(Map<String, String> overrides) {
    overrides.forEach(this::set);
    return this;
  }

  /** Where relative model paths resolve first (default: the process's working directory). */
  ConfigLoader workingDir(Path dir) {
    this.workingDir = dir.toAbsolutePath();
    return this;
  }

  /** Where relative model paths resolve second (default: system property gapstream.home). */
  ConfigLoader home(String dir) {
    this.home = dir;
    return this;
  }

  /**
   * {@code key}'s value, parsed and checked; a bad one's error names where it came from unless that
   * was the command line, which the user has just typed.
   */
  private Object parse(String key) {
    try {
      return ConfigKeys.DEF.parse(key, raw.get(key));
    } catch (ConfigException e) {
      String source = origin.get(key);
      if (source == null || source.equals(COMMAND_LINE)) {
        throw e;
      }
      throw new ConfigException(e.getMessage() + " (from " + source + ")", e);
    }
  }

  /**
   * Validates every layer and builds the config.
   *
   * @throws ConfigException naming the first bad key, its value and what is allowed
   */
  public GapstreamConfig load() {
    rejectUnknownKeys();
    Map<String, Object> v = new HashMap<>();
    ConfigKeys.DEF.keys().keySet().forEach(k -> v.put(k, parse(k)));
    InferenceProvider provider = InferenceProvider.fromId(lower(v, ConfigKeys.INFERENCE_PROVIDER));
    if (provider == InferenceProvider.CUDA && !raw.containsKey(ConfigKeys.INFERENCE_CONCURRENCY)) {
      v.put(ConfigKeys.INFERENCE_CONCURRENCY, ConfigKeys.cudaInferenceConcurrency(processors));
    }
    if (!raw.containsKey(ConfigKeys.INFERENCE_THREADS)) {
      v.put(ConfigKeys.INFERENCE_THREADS, ConfigKeys.inferenceThreads(processors, num(v, ConfigKeys.INFERENCE_CONCURRENCY)));
    }
    TreeMap<String, String> properties = new TreeMap<>();
    v.forEach((k, value) -> properties.put(k, String.valueOf(value)));
    Path model = resolveModel((String) v.get(ConfigKeys.INFERENCE_MODEL_PATH));
    properties.put(ConfigKeys.INFERENCE_MODEL_PATH, model.toString());
    requireDistinctTopics(v);
    rejectBrokersEmptiedOutsideTheCommandLine();
    warnOfIgnoredEmbeddedKeys(v);
    Map<String, String> consumer = passThrough(ConfigKeys.KAFKA_CONSUMER_PREFIX, properties);
    Map<String, String> producer = passThrough(ConfigKeys.KAFKA_PRODUCER_PREFIX, properties);
    DeliveryGuarantee guarantee = DeliveryGuarantee.fromId(lower(v, ConfigKeys.DELIVERY_GUARANTEE));
    rejectOwnedClientSettings(consumer, producer, guarantee);
    rejectClientValues(consumer, producer);
    rejectContradictions(v, producer, guarantee);
    rejectMismatchedSecurity(consumer, producer);
    return new GapstreamConfig(
        kafka(v, consumer, producer),
        new Topics(
            str(v, ConfigKeys.TOPICS_FRAMES),
            str(v, ConfigKeys.TOPICS_PREDICTIONS),
            str(v, ConfigKeys.TOPICS_DLQ)),
        new Batch(
            num(v, ConfigKeys.BATCH_MAX_SIZE),
            lng(v, ConfigKeys.BATCH_MAX_PIXELS),
            lng(v, ConfigKeys.BATCH_MAX_DELAY_MS),
            bool(v, ConfigKeys.BATCH_CALIBRATE),
            lng(v, ConfigKeys.BATCH_RUN_MAX_PIXELS)),
        new Inference(
            model,
            num(v, ConfigKeys.INFERENCE_THREADS),
            num(v, ConfigKeys.INFERENCE_CONCURRENCY),
            provider),
        new Ingest(
            num(v, ConfigKeys.INGEST_MAX_IN_FLIGHT),
            lng(v, ConfigKeys.INGEST_MAX_IN_FLIGHT_BYTES),
            num(v, ConfigKeys.INGEST_MAX_FRAME_BYTES),
            lng(v, ConfigKeys.INGEST_MAX_PIXELS),
            num(v, ConfigKeys.INGEST_DECODE_THREADS),
            lng(v, ConfigKeys.INGEST_PIXEL_POOL_BYTES),
            num(v, ConfigKeys.INGEST_RESIZE_MAX_SIDE),
            lng(v, ConfigKeys.INGEST_MAX_FRAME_AGE_MS)),
        new Cam(bool(v, ConfigKeys.CAM_ENABLED), bool(v, ConfigKeys.CAM_HEATMAP)),
        new Predictions(num(v, ConfigKeys.PREDICTIONS_TOP_K)),
        guarantee,
        lng(v, ConfigKeys.DELIVERY_COMMIT_INTERVAL_MS),
        num(v, ConfigKeys.HTTP_PORT),
        bool(v, ConfigKeys.HTTP_LIVE_ENABLED),
        lng(v, ConfigKeys.SHUTDOWN_TIMEOUT_MS),
        properties);
  }

  /**
   * No brokers starts an embedded one: zero setup on a laptop, and in a deployment a lost setting
   * that looks healthy (ready, consuming a broker of its own, no frame ever read). Left unset, or
   * emptied with {@code --set} as the user types it, it means the former; emptied in a file or the
   * environment (a ConfigMap value that went missing, {@code ${KAFKA:-}} in a compose file), the
   * start fails.
   */
  private void rejectBrokersEmptiedOutsideTheCommandLine() {
    String key = ConfigKeys.KAFKA_BOOTSTRAP_SERVERS;
    String source = origin.get(key);
    if (raw.containsKey(key) && raw.get(key).isBlank() && source != null && !source.equals(COMMAND_LINE)) {
      throw new ConfigException(key + ": empty (from " + source + "), which would start an embedded broker in"
          + " this process instead of consuming a cluster; name the brokers, or leave the key unset for an"
          + " embedded broker");
    }
  }

  /**
   * The output topics differ from the input and from each other: dead letters written to the
   * frames topic would be read again and dead-lettered again without end, and predictions read as
   * frames would each come back as a dead letter.
   */
  private static void requireDistinctTopics(Map<String, Object> v) {
    String frames = str(v, ConfigKeys.TOPICS_FRAMES);
    String predictions = str(v, ConfigKeys.TOPICS_PREDICTIONS);
    String dlq = str(v, ConfigKeys.TOPICS_DLQ);
    if (predictions.equals(frames)) {
      throw new ConfigException(ConfigKeys.TOPICS_PREDICTIONS + ": \"" + predictions + "\" is also "
          + ConfigKeys.TOPICS_FRAMES + ": the pipeline would read its own predictions as frames");
    }
    if (dlq.equals(frames)) {
      throw new ConfigException(ConfigKeys.TOPICS_DLQ + ": \"" + dlq + "\" is also " + ConfigKeys.TOPICS_FRAMES
          + ": a dead letter would be read again and dead-lettered again, without end");
    }
    if (dlq.equals(predictions)) {
      throw new ConfigException(ConfigKeys.TOPICS_DLQ + ": \"" + dlq + "\" is also " + ConfigKeys.TOPICS_PREDICTIONS
          + ": the predictions' readers would meet frames");
    }
    requireNoCollision(ConfigKeys.TOPICS_PREDICTIONS, predictions, ConfigKeys.TOPICS_FRAMES, frames);
    requireNoCollision(ConfigKeys.TOPICS_DLQ, dlq, ConfigKeys.TOPICS_FRAMES, frames);
    requireNoCollision(ConfigKeys.TOPICS_DLQ, dlq, ConfigKeys.TOPICS_PREDICTIONS, predictions);
  }

  /**
   * Kafka names a topic's metrics with '.' as '_', so it refuses a topic whose name differs from
   * an existing one's only there: of two such topics, one cannot exist.
   */
  private static void requireNoCollision(String key, String topic, String otherKey, String other) {
    if (topic.replace('.', '_').equals(other.replace('.', '_'))) {
      throw new ConfigException(key + ": \"" + topic + "\" and " + otherKey + ": \"" + other + "\" differ only in"
          + " '.' and '_', which Kafka counts the same: the second topic could not be created");
    }
  }

  /**
   * Pass-through settings the delivery guarantee depends on, or that gapstream's own keys set, fail
   * the start: auto-commit commits frames still in flight (a crash loses them), weaker acks let an
   * offset be committed for an output a broker may still lose, another group or broker list than
   * the service's keys, or other (de)serialisers than bytes, break the pipeline quietly, and so does
   * a transactional producer where the delivery is at-least-once: it sends nothing outside a
   * transaction, and every prediction failed, again and again.
   */
  private static void rejectOwnedClientSettings(
      Map<String, String> consumer, Map<String, String> producer, DeliveryGuarantee guarantee) {
    String consumerPrefix = ConfigKeys.KAFKA_CONSUMER_PREFIX;
    String producerPrefix = ConfigKeys.KAFKA_PRODUCER_PREFIX;
    String replaced = "set by gapstream's own key ";
    String bytes = "gapstream reads and writes records as bytes";
    reject(consumerPrefix, consumer, "bootstrap.servers", replaced + ConfigKeys.KAFKA_BOOTSTRAP_SERVERS);
    reject(producerPrefix, producer, "bootstrap.servers", replaced + ConfigKeys.KAFKA_BOOTSTRAP_SERVERS);
    reject(consumerPrefix, consumer, "group.id", replaced + ConfigKeys.KAFKA_GROUP_ID);
    reject(consumerPrefix, consumer, "key.deserializer", bytes);
    reject(consumerPrefix, consumer, "value.deserializer", bytes);
    reject(producerPrefix, producer, "key.serializer", bytes);
    reject(producerPrefix, producer, "value.serializer", bytes);
    if (guarantee != DeliveryGuarantee.EXACTLY_ONCE) {
      reject(producerPrefix, producer, "transactional.id", "a transactional producer sends nothing outside a"
          + " transaction, and " + ConfigKeys.DELIVERY_GUARANTEE + " is " + guarantee.id() + "; for transactions set "
          + ConfigKeys.DELIVERY_GUARANTEE + "=exactly-once (its id: " + ConfigKeys.DELIVERY_TRANSACTIONAL_ID + ")");
    }
    String autoCommit = consumer.get("enable.auto.commit");
    if (autoCommit != null && !autoCommit.strip().equalsIgnoreCase("false")) {
      throw new ConfigException(consumerPrefix + "enable.auto.commit: \"" + autoCommit + "\": gapstream commits a"
          + " frame's offset once its outputs are acknowledged; auto-commit would commit frames still in flight,"
          + " and a crash would lose them");
    }
    String idempotence = producer.get("enable.idempotence");
    if (idempotence != null && !idempotence.strip().equalsIgnoreCase("true")) {
      throw new ConfigException(producerPrefix + "enable.idempotence: \"" + idempotence + "\": a retried send"
          + " would be written twice and could land behind a later one; gapstream keeps each camera's outputs"
          + " in order, once each per delivery");
    }
    String reset = consumer.get("auto.offset.reset");
    if (reset != null && reset.strip().equalsIgnoreCase("none")) {
      throw new ConfigException(consumerPrefix + "auto.offset.reset: \"none\": a group with no committed offset"
          + " (every new one) could not read its partitions; use earliest (gapstream's default) or latest");
    }
    String isolation = consumer.get("isolation.level");
    if (guarantee == DeliveryGuarantee.EXACTLY_ONCE && isolation != null
        && !isolation.strip().equalsIgnoreCase("read_committed")) {
      throw new ConfigException(consumerPrefix + "isolation.level: \"" + isolation + "\" is not read_committed,"
          + " and " + ConfigKeys.DELIVERY_GUARANTEE + " is exactly-once: frames from upstream transactions that"
          + " were aborted would be predicted");
    }
    String acks = producer.get("acks");
    if (acks != null && !List.of("all", "-1").contains(acks.strip().toLowerCase(Locale.ROOT))) {
      throw new ConfigException(producerPrefix + "acks: \"" + acks + "\" is not all: a frame's offset is committed"
          + " once its outputs are acknowledged, which must mean every in-sync replica has them");
    }
  }

  /**
   * Settings that each pass alone but say something another setting undoes fail the start rather
   * than being ignored: a transactional id without transactions, a heatmap without the CAM it is
   * drawn from, and (exactly-once) transactions kept open at least as long as the broker lets them
   * live, which it would abort, fencing the producer.
   */
  /**
   * Both clients reach the same brokers ({@code kafka.bootstrap.servers}), through one listener,
   * so with one protocol: a {@code security.protocol} set for the consumer alone left the producer on
   * PLAINTEXT against a TLS or SASL listener, which it cannot speak; the start then waited on the
   * producer's lookups of the output topics, saying only that it was still looking them up.
   */
  private static void rejectMismatchedSecurity(Map<String, String> consumer, Map<String, String> producer) {
    String name = CommonClientConfigs.SECURITY_PROTOCOL_CONFIG;
    String consumerProtocol = consumer.getOrDefault(name, CommonClientConfigs.DEFAULT_SECURITY_PROTOCOL).strip();
    String producerProtocol = producer.getOrDefault(name, CommonClientConfigs.DEFAULT_SECURITY_PROTOCOL).strip();
    if (!consumerProtocol.equalsIgnoreCase(producerProtocol)
        && !consumerProtocol.contains("${") && !producerProtocol.contains("${")) {
      throw new ConfigException(String.format(
          "%s%s (%s%s) and %s%s (%s%s) differ: both clients reach the same brokers, %s, through one listener;"
              + " give both the same",
          ConfigKeys.KAFKA_CONSUMER_PREFIX, name, consumerProtocol, consumer.containsKey(name) ? "" : ", the default",
          ConfigKeys.KAFKA_PRODUCER_PREFIX, name, producerProtocol, producer.containsKey(name) ? "" : ", the default",
          ConfigKeys.KAFKA_BOOTSTRAP_SERVERS));
    }
  }

  private static void rejectContradictions(
      Map<String, Object> v, Map<String, String> producer, DeliveryGuarantee guarantee) {
    String transactionalId = str(v, ConfigKeys.DELIVERY_TRANSACTIONAL_ID);
    if (guarantee != DeliveryGuarantee.EXACTLY_ONCE && !transactionalId.isBlank()) {
      throw new ConfigException(ConfigKeys.DELIVERY_TRANSACTIONAL_ID + ": \"" + transactionalId + "\" is set, but "
          + ConfigKeys.DELIVERY_GUARANTEE + " is " + guarantee.id() + ", which uses no transactions; set "
          + ConfigKeys.DELIVERY_GUARANTEE + "=exactly-once, or leave the id empty");
    }
    String producerId = producer.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    if (!transactionalId.isBlank() && producerId != null) {
      throw new ConfigException(ConfigKeys.DELIVERY_TRANSACTIONAL_ID + ": \"" + transactionalId + "\" and "
          + ConfigKeys.KAFKA_PRODUCER_PREFIX + ProducerConfig.TRANSACTIONAL_ID_CONFIG + ": \"" + producerId
          + "\" are both set; the producer can have one, so set " + ConfigKeys.DELIVERY_TRANSACTIONAL_ID + " only");
    }
    if (bool(v, ConfigKeys.CAM_HEATMAP) && !bool(v, ConfigKeys.CAM_ENABLED)) {
      throw new ConfigException(ConfigKeys.CAM_HEATMAP + ": true needs " + ConfigKeys.CAM_ENABLED
          + "=true; with " + ConfigKeys.CAM_ENABLED + "=false no class activation map is computed to publish");
    }
    String timeout = producer.get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG);
    long transactionTimeout;
    try {
      transactionTimeout = timeout == null ? DEFAULT_TRANSACTION_TIMEOUT_MS : Long.parseLong(timeout.strip());
    } catch (NumberFormatException e) {
      return; // the client refuses it in its own words when the producer is made
    }
    long interval = lng(v, ConfigKeys.DELIVERY_COMMIT_INTERVAL_MS);
    if (guarantee == DeliveryGuarantee.EXACTLY_ONCE && interval >= transactionTimeout) {
      throw new ConfigException(ConfigKeys.DELIVERY_COMMIT_INTERVAL_MS + ": " + interval + " is not less than "
          + ConfigKeys.KAFKA_PRODUCER_PREFIX + ProducerConfig.TRANSACTION_TIMEOUT_CONFIG + " (" + transactionTimeout
          + "): each transaction stays open that long, and the broker aborts one that outlives its timeout");
    }
  }

  /**
   * A pass-through value the Kafka client would refuse fails the start here, naming its key and in
   * the client's words, as gapstream's own keys do. Before, {@code config} passed it, and {@code
   * run} refused it only once the client was made, after the embedded broker and the model.
   */
  private void rejectClientValues(Map<String, String> consumer, Map<String, String> producer) {
    rejectClientValues(ConfigKeys.KAFKA_CONSUMER_PREFIX, consumer, ConsumerConfig.configDef());
    rejectClientValues(ConfigKeys.KAFKA_PRODUCER_PREFIX, producer, ProducerConfig.configDef());
    String together = KafkaClientValues.consumerProblem(consumer);
    if (together != null) {
      throw new ConfigException(ConfigKeys.KAFKA_CONSUMER_PREFIX + "*: " + together);
    }
    together = KafkaClientValues.producerProblem(producer);
    if (together != null) {
      throw new ConfigException(ConfigKeys.KAFKA_PRODUCER_PREFIX + "*: " + together);
    }
  }

  private void rejectClientValues(String prefix, Map<String, String> settings, ConfigDef def) {
    new TreeMap<>(settings).forEach((name, value) -> {
      ConfigDef.ConfigKey key = def.configKeys().get(name);
      String problem = key == null ? null : KafkaClientValues.problem(key, value);
      if (problem != null) {
        String k = prefix + name;
        String source = origin.get(k);
        throw new ConfigException(k + "=" + KafkaClientValues.shown(key, value) + ": " + problem
            + (source == null || source.equals(COMMAND_LINE) ? "" : " (from " + source + ")"));
      }
    });
  }

  private static void reject(String prefix, Map<String, String> settings, String name, String why) {
    if (settings.containsKey(name)) {
      throw new ConfigException(prefix + name + " cannot be set: " + why);
    }
  }

  private KafkaSettings kafka(
      Map<String, Object> v, Map<String, String> consumer, Map<String, String> producer) {
    String dir = str(v, ConfigKeys.KAFKA_EMBEDDED_DIR);
    Embedded embedded =
        new Embedded(
            dir.isBlank() ? null : workingDir.resolve(dir).normalize(),
            num(v, ConfigKeys.KAFKA_EMBEDDED_PORT),
            num(v, ConfigKeys.KAFKA_EMBEDDED_PARTITIONS));
    return new KafkaSettings(
        str(v, ConfigKeys.KAFKA_BOOTSTRAP_SERVERS).strip(),
        str(v, ConfigKeys.KAFKA_GROUP_ID),
        consumer,
        producer,
        embedded);
  }

  private ConfigLoader layer(Map<String, String> values, String source) {
    values.forEach((k, value) -> put(k, value, source));
    return this;
  }

  private void put(String key, String value, String source) {
    String k = key.strip();
    raw.put(k, value);
    origin.put(k, source);
  }

  private void rejectUnknownKeys() {
    raw.keySet().stream()
        .sorted()
        .filter(k -> ConfigKeys.DEF.key(k).isEmpty() && !isPassThrough(k))
        .findFirst()
        .ifPresent(
            k -> {
              throw new ConfigException(
                  "unknown configuration key " + k + " (from " + origin.get(k) + ")"
                      + suggestion(k, ConfigKeys.DEF.keys().keySet()));
            });
    raw.keySet().stream().sorted().forEach(k -> {
      rejectUnknownClientSetting(k, ConfigKeys.KAFKA_CONSUMER_PREFIX, ConsumerConfig.configNames());
      rejectUnknownClientSetting(k, ConfigKeys.KAFKA_PRODUCER_PREFIX, ProducerConfig.configNames());
    });
  }

  private static boolean isPassThrough(String key) {
    return (key.startsWith(ConfigKeys.KAFKA_CONSUMER_PREFIX)
            && key.length() > ConfigKeys.KAFKA_CONSUMER_PREFIX.length())
        || (key.startsWith(ConfigKeys.KAFKA_PRODUCER_PREFIX)
            && key.length() > ConfigKeys.KAFKA_PRODUCER_PREFIX.length());
  }

  /**
   * A pass-through setting the Kafka client does not define fails the start as an unknown key of
   * gapstream's own does: the client would only log it among "supplied but not used", and a typo
   * ({@code max.pol.records}) would leave the default in force unnoticed.
   */
  private static final String CONFIG_PROVIDERS_PREFIX = "config.providers.";

  private void rejectUnknownClientSetting(String key, String prefix, Set<String> clientNames) {
    if (!key.startsWith(prefix) || key.length() == prefix.length()) {
      return;
    }
    String name = key.substring(prefix.length());
    if (!isClientSetting(name, clientNames)) {
      throw new ConfigException(
          "unknown configuration key " + key + " (from " + origin.get(key) + "): the Kafka "
              + (prefix.equals(ConfigKeys.KAFKA_CONSUMER_PREFIX) ? "consumer" : "producer")
              + " has no setting " + name + suggestion(name, clientNames));
    }
  }

  /**
   * Whether a Kafka client reads {@code name}: one of its {@code clientNames}, or a config
   * provider's own setting ({@code config.providers.<alias>.class}, {@code .param.*}), which the
   * user names: secrets such as {@code sasl.jaas.config=${file:...}} need them.
   */
  public static boolean isClientSetting(String name, Set<String> clientNames) {
    return clientNames.contains(name) || name.startsWith(CONFIG_PROVIDERS_PREFIX);
  }

  /** {@code "; did you mean K?"} for the nearest of {@code known} within three edits, else empty. */
  public static String suggestion(String key, Set<String> known) {
    return known.stream()
        .min(Comparator.comparingInt(k -> EditDistance.between(k, key)))
        .filter(k -> EditDistance.between(k, key) <= 3)
        .map(k -> "; did you mean " + k + "?")
        .orElse("");
  }

  private Map<String, String> passThrough(String prefix, Map<String, String> properties) {
    Map<String, String> out = new TreeMap<>();
    raw.forEach(
        (k, value) -> {
          if (k.startsWith(prefix) && k.length() > prefix.length()) {
            out.put(k.substring(prefix.length()), value);
            properties.put(k, value);
          }
        });
    return out;
  }

  /**
   * Relative paths: the working directory if the file is there, else gapstream.home if there. A
   * directory stands for the {@code model.onnx} inside it (a model directory holds the ONNX file
   * and its {@code model.json}).
   */
  private Path resolveModel(String value) {
    Path p = locate(Path.of(value.strip()));
    return Files.isDirectory(p) ? p.resolve("model.onnx") : p;
  }

  private Path locate(Path p) {
    if (p.isAbsolute()) {
      return p.normalize();
    }
    Path inWorkingDir = workingDir.resolve(p).normalize();
    if (!Files.exists(inWorkingDir) && home != null && !home.isBlank()) {
      Path inHome = Path.of(home).toAbsolutePath().resolve(p).normalize();
      if (Files.exists(inHome)) {
        return inHome;
      }
    }
    return inWorkingDir;
  }

  private static String str(Map<String, Object> v, String key) {
    return (String) v.get(key);
  }

  private static String lower(Map<String, Object> v, String key) {
    return str(v, key).toLowerCase(Locale.ROOT);
  }

  private static int num(Map<String, Object> v, String key) {
    return Math.toIntExact(((Number) v.get(key)).longValue());
  }

  private static long lng(Map<String, Object> v, String key) {
    return ((Number) v.get(key)).longValue();
  }

  private static boolean bool(Map<String, Object> v, String key) {
    return (Boolean) v.get(key);
  }
}
