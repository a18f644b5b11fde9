package dev.gapstream.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.acl.AclOperation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the producer's principal may write to the output topics, asked before the pipeline joins
 * its group. Finding a topic's metadata takes only {@code DESCRIBE}: a principal allowed to read a
 * topic, or only to describe it, finds it all the same, and before this check such a replica joined
 * the group and took partitions whose every output the broker then refused.
 *
 * <p>The broker answers with the operations the principal may perform on each topic (all of them
 * where it checks no ACLs).
 */
final class OutputTopicAccess {

  private static final Logger LOG = LoggerFactory.getLogger(OutputTopicAccess.class);
  private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(10);

  private OutputTopicAccess() {}

  /**
   * Runs on a worker: those of {@code topics} the broker says this principal may not write to. None
   * where the broker does not say (an error, a timeout, a broker too old to tell): the first send
   * then finds out, as before, and a warning says the check could not be made.
   */
  static List<String> unwritable(Map<String, String> producerConfig, List<String> topics) {
    List<String> unwritable = new ArrayList<>();
    try (Admin admin = Admin.create(OutputLimit.adminConfig(producerConfig, "gapstream-topic-access"))) {
      Map<String, TopicDescription> described = admin
          .describeTopics(
              topics,
              new DescribeTopicsOptions()
                  .includeAuthorizedOperations(true)
                  .timeoutMs((int) LOOKUP_TIMEOUT.toMillis()))
          .allTopicNames()
          .get(LOOKUP_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      for (String topic : topics) {
        Set<AclOperation> allowed = described.get(topic).authorizedOperations();
        if (allowed != null && !allowed.contains(AclOperation.WRITE)) {
          unwritable.add(topic);
        }
      }
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      LOG.warn("Cannot ask whether this principal may write to topics {} ({}): its first send will tell", topics, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return unwritable;
  }
}
