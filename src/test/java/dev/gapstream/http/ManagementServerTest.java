package dev.gapstream.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@ExtendWith(BlockedThreadGuard.class)
class ManagementServerTest {
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private Vertx vertx;
  private GapstreamMetrics metrics;
  private Health health;
  private ManagementServer server;

  @BeforeEach
  void start(VertxTestContext ctx) {
    // A handler that blocks the event loop fails the class (BlockedThreadGuard). Vert.x's own
    // meters in the registry, as the service has them.
    metrics = GapstreamMetrics.create();
    vertx =
        Vertx.builder()
            .with(TestPipelines.TIGHT.vertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
            .withMetrics(new MicrometerMetricsFactory(metrics.registry()))
            .build();
    health = Health.requiring("model", "partitions", "broker");
    ManagementServer.start(
            vertx,
            0,
            metrics.registry(),
            health,
            List.of(router -> router.get("/extra").handler(rc -> rc.response().end("extra"))))
        .onComplete(
            ctx.succeeding(
                s -> {
                  server = s;
                  ctx.completeNow();
                }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    metrics.close();
    vertx.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void servesPrometheusTextWithTheContractNames(VertxTestContext ctx) {
    metrics.pipeline().frameReceived();
    metrics.pipeline().modelInfo("gapnet-shapes", "1", "gap");
    metrics.pipeline().batchLimits(16, 4L * 224 * 224, Long.MAX_VALUE);
    metrics.pipeline().batchCalibration(Map.of(4, 394.0), 4);
    metrics.pipeline().publishFailed("predictions", new org.apache.kafka.common.errors.TimeoutException("expired"));

    expect(ctx, get("/metrics"), res -> {
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.headers().firstValue("content-type"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
      for (String name : GapstreamMetrics.PROMETHEUS_NAMES) {
        assertThat(res.body()).contains(name);
      }
      assertThat(res.body()).contains("gapstream_frames_received_total{application=\"gapstream\"} 1.0");
    });
  }

  @Test
  void liveIsUpUntilMarkedDown(VertxTestContext ctx) {
    get("/health/live")
        .thenCompose(
            res -> {
              ctx.verify(
                  () -> {
                    assertThat(res.statusCode()).isEqualTo(200);
                    assertThat(new JsonObject(res.body()))
                        .isEqualTo(new JsonObject().put("status", "UP"));
                  });
              health.setLive(false);
              return get("/health/live");
            })
        .whenComplete(
            (res, err) ->
                ctx.verify(
                    () -> {
                      assertThat(err).isNull();
                      assertThat(res.statusCode()).isEqualTo(503);
                      ctx.completeNow();
                    }));
  }

  @Test
  void readyFollowsTheChecks(VertxTestContext ctx) {
    health.set("model", true);
    health.set("broker", true);

    get("/health/ready")
        .thenCompose(
            res -> {
              ctx.verify(
                  () -> {
                    assertThat(res.statusCode()).isEqualTo(503);
                    assertThat(new JsonObject(res.body()))
                        .isEqualTo(
                            new JsonObject(
                                "{\"status\":\"DOWN\",\"checks\":"
                                    + "{\"broker\":true,\"model\":true,\"partitions\":false}}"));
                  });
              health.set("partitions", true);
              return get("/health/ready");
            })
        .whenComplete(
            (res, err) ->
                ctx.verify(
                    () -> {
                      assertThat(err).isNull();
                      assertThat(res.statusCode()).isEqualTo(200);
                      assertThat(new JsonObject(res.body()).getString("status")).isEqualTo("UP");
                      ctx.completeNow();
                    }));
  }

  @Test
  void extraRoutesAndUnknownPaths(VertxTestContext ctx) {
    assertThat(server.actualPort()).isPositive();
    get("/extra")
        .thenCombine(
            get("/nope"),
            (extra, nope) -> {
              ctx.verify(
                  () -> {
                    assertThat(extra.body()).isEqualTo("extra");
                    assertThat(nope.statusCode()).isEqualTo(404);
                  });
              return null;
            })
        .whenComplete(
            (v, err) ->
                ctx.verify(
                    () -> {
                      assertThat(err).isNull();
                      ctx.completeNow();
                    }));
  }

  /** Uptime checkers and load balancers probe with HEAD: the GET's status and headers, no body. */
  @Test
  void headIsAnsweredAsGetIsWithoutTheBody(VertxTestContext ctx) {
    CompletableFuture<HttpResponse<String>> live = send("HEAD", "/health/live");
    CompletableFuture<HttpResponse<String>> ready = send("HEAD", "/health/ready");
    CompletableFuture<HttpResponse<String>> scrape = send("HEAD", "/metrics");
    expect(ctx, CompletableFuture.allOf(live, ready, scrape).thenApply(v -> scrape.join()), res -> {
      assertThat(live.join().statusCode()).isEqualTo(200);
      assertThat(ready.join().statusCode()).as("partitions not yet up").isEqualTo(503);
      assertThat(ready.join().headers().firstValue("content-type")).hasValue("application/json");
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.headers().firstValue("content-type"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
      for (HttpResponse<String> r : List.of(live.join(), ready.join(), res)) {
        assertThat(r.body()).isEmpty();
      }
    });
  }

  /**
   * Vert.x tags its request meters with the method a client sent: a made-up one is counted as
   * OTHER, or each would add series for good.
   */
  @Test
  void aMadeUpMethodIsCountedAsOther(VertxTestContext ctx) {
    expect(ctx, send("ZZ9471", "/metrics").thenCompose(made -> {
      ctx.verify(() -> assertThat(made.statusCode()).isEqualTo(405));
      return get("/metrics");
    }), res -> {
      assertThat(res.body()).contains("method=\"OTHER\"").doesNotContain("ZZ9471");
    });
  }

  @Test
  void answersAnHttp2UpgradeRequestInHttp11(VertxTestContext ctx) {
    // The JDK's client asks to upgrade a plain-http connection to HTTP/2 by default.
    HttpClient upgrading = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    expect(ctx, get(upgrading, "/health/live"), res -> {
      assertThat(res.statusCode()).isEqualTo(200);
      assertThat(res.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    });
  }

  /** Completes the test once {@code response} has arrived and passed {@code checks}. */
  private static void expect(
      VertxTestContext ctx, CompletableFuture<HttpResponse<String>> response, Consumer<HttpResponse<String>> checks) {
    response.whenComplete((res, err) -> ctx.verify(() -> {
      assertThat(err).isNull();
      checks.accept(res);
      ctx.completeNow();
    }));
  }

  private CompletableFuture<HttpResponse<String>> get(String path) {
    return get(http, path);
  }

  private CompletableFuture<HttpResponse<String>> send(String method, String path) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }

  private CompletableFuture<HttpResponse<String>> get(HttpClient client, String path) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
            .timeout(Duration.ofSeconds(10))
            .GET()
            .build();
    return client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }
}
