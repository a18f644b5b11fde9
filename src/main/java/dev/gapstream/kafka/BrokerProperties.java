package dev.gapstream.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;

/**
 * The broker configuration of the single-node KRaft cluster: PLAINTEXT for clients and between
 * broker and controller, an optional SASL_PLAINTEXT listener with PLAIN users, and every internal
 * topic at replication factor 1 so that one node suffices. Pure functions; thread safe.
 */
final class BrokerProperties {
  static final int NODE_ID = 1;
  static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._-]+");

  /** What varies between brokers: addresses, users, directory, caller overrides. */
  record Input(
      String host,
      int port,
      int controllerPort,
      int saslPort,
      Map<String, String> saslUsers,
      Path dataDir,
      Map<String, String> overrides) {}

  private BrokerProperties() {}

  static Map<String, Object> build(Input in) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", String.valueOf(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@" + in.host() + ":" + in.controllerPort());
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    p.put("inter.broker.listener.name", "PLAINTEXT");
    String listeners =
        "PLAINTEXT://"
            + in.host()
            + ":"
            + in.port()
            + ","
            + CONTROLLER_LISTENER
            + "://"
            + in.host()
            + ":"
            + in.controllerPort();
    String protocols = "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT";
    if (!in.saslUsers().isEmpty()) {
      listeners += ",SASL_PLAINTEXT://" + in.host() + ":" + in.saslPort();
      protocols += ",SASL_PLAINTEXT:SASL_PLAINTEXT";
      p.put("sasl.enabled.mechanisms", "PLAIN");
      p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaasConfig(in.saslUsers()));
    }
    p.put("listeners", listeners);
    p.put("listener.security.protocol.map", protocols);
    p.put("log.dirs", in.dataDir().toString());
    p.put("metadata.log.dir", in.dataDir().toString());
    // One node: every internal topic must fit on it, and few partitions keep start-up fast.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("share.coordinator.state.topic.num.partitions", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    p.put("num.partitions", "1");
    // Tests and the demo join a group with one member: do not wait for more.
    p.put("group.initial.rebalance.delay.ms", "0");
    p.putAll(in.overrides());
    return p;
  }

  /** PLAIN's server-side JAAS entry: one {@code user_<name>="<password>"} option per user. */
  static String jaasConfig(Map<String, String> users) {
    StringBuilder sb =
        new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
    users.forEach(
        (user, password) -> {
          if (!USER_NAME.matcher(user).matches()) {
            throw new IllegalArgumentException(
                "SASL user name must match " + USER_NAME + ": " + user);
          }
          sb.append(" user_").append(user).append("=\"").append(quote(password)).append('"');
        });
    return sb.append(';').toString();
  }

  private static String quote(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** Blocks until the broker answers a metadata request with itself as a live node. */
  static void awaitReady(Map<String, Object> adminConfig, Duration timeout) {
    try (Admin admin = Admin.create(adminConfig)) {
      admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new KafkaBrokerException("embedded Kafka did not become ready", e.getCause());
    } catch (TimeoutException e) {
      throw new KafkaBrokerException("embedded Kafka not ready after " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaBrokerException("interrupted while waiting for embedded Kafka", e);
    }
  }
}
