package dev.gapstream.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gapstream.kafka.EmbeddedKafka;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.FrameFeed;
import dev.gapstream.testing.Outputs;
import dev.gapstream.testing.TestPipelines;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclOperation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The frames topic refuses the pipeline's reads for a while (an ACL denies them, then is removed):
 * every poll ends with {@code TopicAuthorizationException}. Before, the pipeline stayed ready while
 * it consumed nothing, and Vert.x polled again at once, a warning per poll.
 */
@ExtendWith(BlockedThreadGuard.class)
class RefusedFramesIT {

  @Test
  void framesTheConsumerMayNotReadKeepItUnreadyUntilItMayAgain() throws Exception {
    long watchMs = 3_000;
    try (EmbeddedKafka broker = RefusedPredictionsIT.brokerWithAcls(4);
        Admin admin = broker.admin();
        GapstreamService service = TestPipelines.start(Map.of("kafka.bootstrap.servers", broker.bootstrapServers()));
        Outputs out = Outputs.read(broker.bootstrapServers())) {
      await().atMost(Duration.ofMinutes(1)).until(() -> TestPipelines.get(service, "/health/ready").statusCode() == 200);
      FrameFeed feed = new FrameFeed(broker.bootstrapServers(), "frames", "acl", 4, FrameFeed.jpegs(8, 64, 64, 11));
      List<String> before = feed.ids(20);
      feed.send(0, 20, 0);
      out.await(before, Duration.ofMinutes(1));

      RefusedPredictionsIT.refuse(admin, "frames", AclOperation.READ, true);
      List<String> during = new ArrayList<>(feed.ids(40).subList(20, 40));
      feed.send(20, 40, 0);
      await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.FALSE.equals(service.health().checks().get(PollErrors.CHECK)));
      List<Boolean> polling = new ArrayList<>();
      long watchEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(watchMs);
      while (System.nanoTime() < watchEnd) {
        polling.add(service.health().checks().get(PollErrors.CHECK));
        TimeUnit.MILLISECONDS.sleep(50);
      }
      HttpResponse<String> readyMeanwhile = TestPipelines.get(service, "/health/ready");
      boolean liveMeanwhile = service.health().isLive();

      RefusedPredictionsIT.refuse(admin, "frames", AclOperation.READ, false);
      Outputs.Tally done = out.await(during, Duration.ofMinutes(1));
      await().atMost(Duration.ofSeconds(30)).until(() -> TestPipelines.get(service, "/health/ready").statusCode() == 200);
      List<String> all = new ArrayList<>(before);
      all.addAll(during);
      Outputs.Tally settled = out.settle(all, Duration.ofSeconds(1));
      System.out.printf("frames refused: polling check %s; ready meanwhile %s; after it %s%n",
          polling.stream().distinct().toList(), readyMeanwhile.body(), settled);

      assertThat(polling).as("the polling check while reads were refused").isNotEmpty().containsOnly(false);
      assertThat(readyMeanwhile.statusCode()).as(readyMeanwhile.body()).isEqualTo(503);
      assertThat(readyMeanwhile.body()).contains("\"polling\":false");
      assertThat(liveMeanwhile).as("live: polling resumes by itself once the reads are allowed").isTrue();
      assertThat(done.lost()).as(done.toString()).isZero();
      assertThat(settled.predicted()).isEqualTo(all.size());
    }
  }
}
