package dev.gapstream.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.gapstream.inference.ModelSpec;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.pipeline.GapstreamService;
import dev.gapstream.synth.SyntheticFrames;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.HeadlessChromium;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live view in a real browser: the pipeline with the shipped model and synthetic frames
 * flowing, the page in headless Chromium, and the DOM read twice over the DevTools Protocol to
 * show that frames, labels and charts appear and keep updating. Leaves a screenshot in {@code
 * target/live-view.png}. And, on a bare live view, that the page reconnects after a 503.
 */
@ExtendWith(BlockedThreadGuard.class)
class LiveViewBrowserIT {
  private static final Path SCREENSHOT = Path.of(System.getProperty("gapstream.home", "."), "target", "live-view.png");
  private static final double RATE = 25;

  /** What the page shows, read in one go. */
  private static final String STATE =
      "document.readyState !== 'complete' ? '{\"loading\":true}' : JSON.stringify({"
          + " events: +document.body.dataset.eventsReceived,"
          + " stats: +document.body.dataset.statsReceived,"
          + " frames: [...document.querySelectorAll('#frames .frame')].map(f => ({"
          + "   id: f.dataset.frameId,"
          + "   label: f.querySelector('.label').textContent,"
          + "   score: f.querySelector('.score').textContent,"
          + "   src: f.querySelector('img').src.slice(0, 23),"
          + "   loaded: f.querySelector('img').complete && f.querySelector('img').naturalWidth > 0 })),"
          + " points: [...document.querySelectorAll('canvas.chart')].map(c => +c.dataset.points),"
          + " ticks: [...document.querySelectorAll('canvas.chart')].map(c => c.dataset.ticks),"
          + " status: document.getElementById('status').textContent,"
          + " model: document.getElementById('model').textContent,"
          + " throughput: document.getElementById('kpi-throughput').textContent,"
          + " p99: document.getElementById('kpi-p99').textContent,"
          + " inked: (() => { const c = document.getElementById('chart-throughput');"
          + "   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
          + "   for (let i = 0; i < d.length; i += 4) {"
          + "     if (d[i] > 200 && d[i + 1] > 110 && d[i + 1] < 200 && d[i + 2] < 120 && d[i + 3] > 128) n++; }"
          + "   return n; })()"
          + "})";

  @Test
  @Timeout(300)
  void pageShowsRecentFramesWithLabelsAndChartsThatKeepUpdating(@TempDir Path profile) throws Exception {
    HeadlessChromium.executable(); // fail before the slow part when the browser is missing
    try (GapstreamService service = TestPipelines.start(Map.of("batch.max.delay.ms", "20"))) {
      List<String> labels = ModelSpec.load(service.config().inference().modelPath()).labels();
      Thread feeder = feed(service);
      try (HeadlessChromium browser = HeadlessChromium.launch(profile, 1280, 900)) {
        browser.navigate("http://127.0.0.1:" + service.httpPort() + "/live");
        AtomicReference<JsonObject> state = new AtomicReference<>(new JsonObject());
        HeadlessChromium.await(
            Duration.ofSeconds(120),
            () -> {
              state.set(read(browser));
              return !state.get().containsKey("loading")
                  && state.get().getJsonArray("frames").size() >= 8
                  && state.get().getInteger("stats") >= 3;
            },
            () -> "the page shows no frames or stats: " + state.get().encode());
        JsonObject first = state.get();
        browser.screenshot(SCREENSHOT); // an artefact even if a check below fails
        assertShowsFramesAndCharts(first, labels);

        HeadlessChromium.await(
            Duration.ofSeconds(60),
            () -> {
              state.set(read(browser));
              return state.get().getInteger("stats") >= first.getInteger("stats") + 3
                  && !newestFrame(state.get()).equals(newestFrame(first));
            },
            () -> "the page stopped updating: first " + first.encode() + ", now " + state.get().encode());
        JsonObject second = state.get();
        assertShowsFramesAndCharts(second, labels);
        assertThat(second.getInteger("events")).isGreaterThan(first.getInteger("events"));
        assertThat(second.getJsonArray("frames").size()).as("the page keeps a bounded set").isLessThanOrEqualTo(12);
        browser.screenshot(SCREENSHOT);
      } finally {
        feeder.interrupt();
        feeder.join(Duration.ofSeconds(30).toMillis());
      }
    }
    assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
  }

  /**
   * A browser gives up an EventSource for good after an answer other than 200 (a proxy's 503 during
   * a rollout): the page must open a new one, not say "reconnecting" forever. No pipeline needed.
   */
  @Test
  @Timeout(120)
  void pageReconnectsAfterTheStreamIsAnsweredWith503(@TempDir Path profile) throws Exception {
    HeadlessChromium.executable();
    Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    try (GapstreamMetrics metrics = GapstreamMetrics.create();
        LiveView view = new LiveView(metrics.registry(), "m", "7")) {
      AtomicInteger requests = new AtomicInteger();
      Router router = Router.router(vertx);
      router.get("/live/events").handler(ctx -> {
        if (requests.incrementAndGet() == 1) {
          ctx.response().setStatusCode(503).end("starting");
        } else {
          ctx.next();
        }
      });
      view.install(router);
      HttpServer server =
          vertx.createHttpServer().requestHandler(router).listen(0).toCompletionStage().toCompletableFuture().get();
      try (HeadlessChromium browser = HeadlessChromium.launch(profile, 800, 600)) {
        browser.navigate("http://127.0.0.1:" + server.actualPort() + "/live");
        String page =
            "document.readyState !== 'complete' ? '{}' : JSON.stringify({"
                + " status: document.getElementById('status').textContent,"
                + " model: document.getElementById('model').textContent,"
                + " reconnects: +(document.body.dataset.reconnects || 0) })";
        AtomicReference<JsonObject> state = new AtomicReference<>(new JsonObject());
        HeadlessChromium.await(
            Duration.ofSeconds(30),
            () -> {
              state.set(evaluate(browser, page));
              return "live".equals(state.get().getString("status"));
            },
            () -> "the page did not reconnect after a 503: " + state.get().encode() + ", " + requests.get() + " requests");
        assertThat(state.get().getString("model")).isEqualTo("m v7");
        assertThat(state.get().getInteger("reconnects")).isEqualTo(1);
        assertThat(requests.get()).isEqualTo(2);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static JsonObject evaluate(HeadlessChromium browser, String expression) {
    try {
      return browser.evaluateJson(expression);
    } catch (Exception e) {
      throw new AssertionError("reading the page failed", e);
    }
  }

  private static void assertShowsFramesAndCharts(JsonObject state, List<String> labels) {
    assertThat(state.getString("status")).isEqualTo("live");
    assertThat(state.getString("model")).startsWith("gapnet-shapes v").doesNotContain("connecting");
    JsonArray frames = state.getJsonArray("frames");
    for (int i = 0; i < frames.size(); i++) {
      JsonObject frame = frames.getJsonObject(i);
      assertThat(frame.getString("src")).isEqualTo("data:image/jpeg;base64,");
      assertThat(frame.getBoolean("loaded")).as("thumbnail decoded: %s", frame).isTrue();
      assertThat(labels).contains(frame.getString("label"));
      assertThat(frame.getString("score")).matches("[01]\\.\\d{3}");
    }
    assertThat(state.getJsonArray("points")).as("three charts with data").hasSize(3).allSatisfy(p -> assertThat((Integer) p).isGreaterThanOrEqualTo(2));
    assertThat(state.getJsonArray("ticks")).as("three charts with axes").hasSize(3).allSatisfy(t -> assertRoundAxis((String) t));
    assertThat(state.getString("throughput")).matches("\\d+\\.\\d");
    double[] throughputTicks = ticks(state.getJsonArray("ticks").getString(0));
    assertThat(throughputTicks[throughputTicks.length - 1])
        .as("the throughput axis reaches the throughput shown")
        .isGreaterThanOrEqualTo(Double.parseDouble(state.getString("throughput")));
    assertThat(state.getString("p99")).matches("\\d+ ms");
    assertThat(state.getInteger("inked")).as("the throughput line is drawn").isGreaterThan(20);
  }

  /**
   * Gridlines from zero one step apart, the step 1, 2 or 5 times a power of ten, every label
   * written with the same decimals: "0 10 20 30", never "0.0 6.3 13 19 25".
   */
  private static void assertRoundAxis(String labels) {
    double[] ticks = ticks(labels);
    assertThat(ticks).as("axis %s", labels).hasSizeBetween(2, 5);
    assertThat(ticks[0]).as("axis %s", labels).isZero();
    double step = ticks[1];
    double mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
    assertThat(mantissa).as("step of axis %s", labels).isIn(1.0, 2.0, 5.0);
    for (int i = 1; i < ticks.length; i++) {
      assertThat(ticks[i]).as("axis %s", labels).isCloseTo(i * step, offset(step * 1e-6));
    }
    assertThat(labels.split(" "))
        .as("axis %s", labels)
        .extracting(l -> l.indexOf('.') < 0 ? 0 : l.length() - l.indexOf('.') - 1)
        .containsOnly(Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9)));
  }

  private static double[] ticks(String labels) {
    assertThat(labels).as("axis labels").isNotBlank();
    return Arrays.stream(labels.split(" ")).mapToDouble(Double::parseDouble).toArray();
  }

  private static String newestFrame(JsonObject state) {
    return state.getJsonArray("frames").getJsonObject(0).getString("id");
  }

  private static JsonObject read(HeadlessChromium browser) {
    return evaluate(browser, STATE);
  }

  /** Synthetic JPEG frames at {@link #RATE} per second until interrupted. */
  private static Thread feed(GapstreamService service) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, service.bootstrapServers());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    String topic = service.config().topics().frames();
    Thread feeder =
        new Thread(
            () -> {
              SyntheticFrames frames = new SyntheticFrames(42);
              try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                  byte[] key = ("camera-" + i % 4).getBytes(StandardCharsets.UTF_8);
                  producer.send(new ProducerRecord<>(topic, key, frames.next().encode("jpeg")));
                  Thread.sleep((long) (1000 / RATE));
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "live-view-feeder");
    feeder.setDaemon(true);
    feeder.start();
    return feeder;
  }
}
