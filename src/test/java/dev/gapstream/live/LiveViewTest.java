package dev.gapstream.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gapstream.inference.ClassActivationMap;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.metrics.GapstreamMetrics;
import dev.gapstream.publish.Prediction;
import dev.gapstream.testing.BlockedThreadGuard;
import dev.gapstream.testing.TestPipelines;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The live view's server side without a browser: sampling, bounds, statistics and the stream. */
@ExtendWith(BlockedThreadGuard.class)
class LiveViewTest {

  @Test
  void samplerAdmitsOneFramePerIntervalWhateverTheRate() {
    AtomicLong now = new AtomicLong(1_000);
    FrameSampler sampler = new FrameSampler(250, 2_000, now::get);
    int admitted = 0;
    for (int i = 0; i < 1_000; i++) { // 1,000 frames over 1,000 ns of a watched page
      admitted += sampler.tryAcquire(true) ? 1 : 0;
      now.incrementAndGet();
    }
    assertThat(admitted).isEqualTo(4);
    int idle = 0;
    for (int i = 0; i < 4_000; i++) { // nobody watching: one per 2,000 ns
      idle += sampler.tryAcquire(false) ? 1 : 0;
      now.incrementAndGet();
    }
    assertThat(idle).isEqualTo(2);
  }

  @Test
  void recentEventsKeepTheNewestUpToCapacity() {
    RecentEvents ring = new RecentEvents(3);
    for (int i = 0; i < 10; i++) {
      ring.add("e" + i);
    }
    assertThat(ring.snapshot()).containsExactly("e7", "e8", "e9");
  }

  @Test
  void sseEventsFollowTheEventStreamFormat() {
    assertThat(SseEvent.of("stats", "{\"a\":1}")).isEqualTo("event: stats\ndata: {\"a\":1}\n\n");
    assertThat(SseEvent.of("x", "one\ntwo")).isEqualTo("event: x\ndata: one\ndata: two\n\n");
    assertThat(SseEvent.comment("heartbeat")).isEqualTo(": heartbeat\n\n");
    assertThat(SseEvent.retry(2000)).isEqualTo("retry: 2000\n\n");
  }

  /**
   * The inference worker copies a large frame at a fraction of its size, every k-th pixel of every
   * k-th row, and a small one whole, into an array of its own: the decoder's may be reused.
   */
  @Test
  void aSampledFrameIsCopiedWholeWhenSmallAndDecimatedWhenLarge() {
    DecodedFrame hd = frame(1920, 1080);
    FrameRenderer.Pixels copy = FrameRenderer.copy(1920, 1080, hd.rgb());
    int step = 1920 / FrameRenderer.COPY_SIDE; // 4
    assertThat(new int[] {copy.width(), copy.height()}).containsExactly(1920 / step, 1080 / step);
    for (int[] at : new int[][] {{0, 0}, {1, 0}, {479, 0}, {0, 269}, {123, 45}, {479, 269}}) {
      int src = 3 * (at[1] * step * 1920 + at[0] * step);
      int dst = 3 * (at[1] * copy.width() + at[0]);
      assertThat(Arrays.copyOfRange(copy.rgb(), dst, dst + 3)).as("pixel %s", Arrays.toString(at))
          .isEqualTo(Arrays.copyOfRange(hd.rgb(), src, src + 3));
    }

    DecodedFrame small = frame(96, 64);
    FrameRenderer.Pixels whole = FrameRenderer.copy(96, 64, small.rgb());
    assertThat(new int[] {whole.width(), whole.height()}).containsExactly(96, 64);
    assertThat(whole.rgb()).isEqualTo(small.rgb()).isNotSameAs(small.rgb());

    // The largest step that keeps COPY_SIDE (448): every 2nd pixel of an 895 px side leaves 448. It
    // was copied whole, 1.3 MB instead of 0.3.
    FrameRenderer.Pixels halved = FrameRenderer.copy(895, 500, frame(895, 500).rgb());
    assertThat(new int[] {halved.width(), halved.height()}).containsExactly(448, 250);
    assertThat(FrameRenderer.copy(894, 500, frame(894, 500).rgb()).width()).as("a step of 2 would leave 447").isEqualTo(894);
  }

  @Test
  void aLargeFramesThumbnailKeepsItsAspectRatio() throws Exception {
    FrameRenderer.Pixels copy = FrameRenderer.copy(3840, 2160, frame(3840, 2160).rgb());
    var thumbnail = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(FrameRenderer.render(copy, cam())));
    assertThat(new int[] {thumbnail.getWidth(), thumbnail.getHeight()})
        .containsExactly(FrameRenderer.THUMBNAIL_SIDE, Math.round(FrameRenderer.THUMBNAIL_SIDE * 2160f / 3840));
  }

  @Test
  void quantilesInterpolateInsideTheBucketThatHoldsTheRank() {
    double[] bounds = {10, 20, 40};
    double[] cumulative = {0, 50, 100};
    assertThat(BucketQuantiles.quantile(bounds, cumulative, 100, 0.5)).isEqualTo(20.0);
    assertThat(BucketQuantiles.quantile(bounds, cumulative, 100, 0.75)).isEqualTo(30.0);
    assertThat(BucketQuantiles.quantile(bounds, cumulative, 100, 0.25)).isEqualTo(15.0);
    assertThat(BucketQuantiles.quantile(bounds, cumulative, 0, 0.5)).isNaN();
    assertThat(BucketQuantiles.quantile(bounds, cumulative, 120, 0.99)).as("above the last bucket").isEqualTo(40.0);
  }

  @Test
  void statsCoverTheRecentWindowOfTheRealMeters() {
    try (GapstreamMetrics metrics = GapstreamMetrics.create()) {
      LiveStats stats = new LiveStats(metrics.registry(), 5);
      for (int i = 0; i < 100; i++) {
        metrics.pipeline().recordEndToEnd(1_000); // an old, slow period
      }
      stats.sample(0);
      for (int i = 0; i < 200; i++) {
        metrics.pipeline().recordEndToEnd(20 + i % 10);
        metrics.pipeline().predictionPublished();
      }
      metrics.pipeline().recordBatch(8, 1_000);
      metrics.pipeline().recordBatch(4, 1_000);
      JsonObject json = stats.sample(TimeUnit.SECONDS.toNanos(2));
      assertThat(json.getDouble("predictionsPerSecond")).isEqualTo(100.0);
      assertThat(json.getDouble("meanBatchSize")).isEqualTo(6.0);
      // only the last window's 20-29 ms values; bucket interpolation is coarse, the old 1 s ones are gone
      assertThat(json.getDouble("p50Ms")).isCloseTo(25.0, within(6.0));
      assertThat(json.getDouble("p99Ms")).isBetween(20.0, 40.0);
    }
  }

  @Test
  @Timeout(60)
  void streamsSampledFramesToAConnectedPageAsServerSentEvents() throws Exception {
    Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    AtomicLong clock = new AtomicLong();
    try (GapstreamMetrics metrics = GapstreamMetrics.create()) {
      LiveView view = new LiveView(metrics.registry(), "m", "1", new FrameSampler(1_000, 1_000, clock::get));
      HttpServer server = viewServer(vertx, view);
      String base = "http://127.0.0.1:" + server.actualPort();
      HttpClient http = HttpClient.newHttpClient();

      HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
      assertThat(page.body()).contains("/live/live.js", "/live/live.css");
      assertThat(page.headers().firstValue("x-content-type-options")).hasValue("nosniff");
      assertThat(page.headers().firstValue("content-security-policy")).hasValue(LiveAssets.POLICY);
      HttpResponse<Void> head =
          http.send(HttpRequest.newBuilder(URI.create(base + "/")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
              HttpResponse.BodyHandlers.discarding());
      assertThat(head.statusCode()).as("HEAD, as the management server's own routes answer it").isEqualTo(200);
      assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/live/live.js")).build(), HttpResponse.BodyHandlers.ofString()).body())
          .contains("new EventSource('/live/events')");

      HttpResponse<InputStream> stream =
          http.send(HttpRequest.newBuilder(URI.create(base + "/live/events")).build(), HttpResponse.BodyHandlers.ofInputStream());
      assertThat(stream.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
      assertThat(stream.headers().firstValue("cache-control")).hasValue("no-store");
      assertThat(stream.headers().firstValue("x-accel-buffering")).as("no proxy buffering").hasValue("no");
      BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
      assertThat(nextEvent(lines)).containsEntry("event", "hello");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (view.clients() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(view.clients()).as("the event stream's client, registered").isEqualTo(1);

      clock.set(1_000); // one interval: of 500 predictions at once, one is sampled
      for (int i = 0; i < 500; i++) {
        view.onPrediction(frame(96, 64), prediction("f-" + i), cam());
      }
      assertThat(view.sampled()).isEqualTo(1);

      Map<String, String> event = nextEvent(lines);
      while (!"frame".equals(event.get("event"))) { // stats events come once a second meanwhile
        assertThat(event.get("event")).isEqualTo("stats");
        assertThat(new JsonObject(event.get("data")).containsKey("predictionsPerSecond")).isTrue();
        event = nextEvent(lines);
      }
      JsonObject frame = new JsonObject(event.get("data"));
      assertThat(frame.getString("frameId")).isEqualTo("f-0");
      assertThat(frame.getJsonArray("top").getJsonObject(0).getString("label")).isEqualTo("circle");
      assertThat(frame.getJsonObject("cam").getJsonArray("box")).hasSize(4);
      String image = frame.getString("image");
      assertThat(image).startsWith("data:image/jpeg;base64,");
      byte[] jpeg = Base64.getDecoder().decode(image.substring(image.indexOf(',') + 1));
      var thumbnail = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(jpeg));
      assertThat(Math.max(thumbnail.getWidth(), thumbnail.getHeight())).isEqualTo(FrameRenderer.THUMBNAIL_SIDE);
      assertThat(thumbnail.getWidth()).as("aspect ratio kept").isGreaterThan(thumbnail.getHeight());

      stream.body().close();
      view.close();
      server.close().toCompletionStage().toCompletableFuture().get();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * A page that connects after frames went by is greeted with them (and the recent statistics):
   * no prediction follows here, so the frame it reads can only be the replay.
   */
  @Test
  @Timeout(60)
  void aPageThatConnectsLateIsGreetedWithTheRecentFrames() throws Exception {
    Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    AtomicLong clock = new AtomicLong(1_000);
    try (GapstreamMetrics metrics = GapstreamMetrics.create()) {
      LiveView view = new LiveView(metrics.registry(), "m", "1", new FrameSampler(1_000, 1_000, clock::get));
      try {
        HttpServer server = viewServer(vertx, view);
        view.onPrediction(frame(96, 64), prediction("before-you-came"), cam());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (view.recentFrames() == 0 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(view.recentFrames()).as("rendered with nobody watching").isEqualTo(1);

        HttpResponse<InputStream> stream = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/live/events")).build(),
            HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
          assertThat(nextEvent(lines)).containsEntry("event", "hello");
          Map<String, String> event = nextEvent(lines);
          while ("stats".equals(event.get("event"))) { // the recent statistics come first
            event = nextEvent(lines);
          }
          assertThat(event).containsEntry("event", "frame");
          assertThat(new JsonObject(event.get("data")).getString("frameId")).isEqualTo("before-you-came");
        }
        server.close().toCompletionStage().toCompletableFuture().get();
      } finally {
        view.close();
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * A viewer on a slow link fills its write queue at one heartbeat and the next, but reads, and
   * its queue drains in between: it stays, and gets what comes after (only one that never drains
   * is closed, below).
   */
  @Test
  @Timeout(60)
  void aClientThatReadsSlowlyIsKeptThoughItsQueueIsFullAtEachHeartbeat() throws Exception {
    Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    SseHub hub = new SseHub(2);
    try {
      HttpServer server = hubServer(vertx, hub);
      try (Socket slow = rawClient(server.actualPort())) {
        slow.setSoTimeout(10_000);
        awaitClients(hub, 1);
        String big = SseEvent.comment("x".repeat(16 * 1024));

        fill(hub, big); // 512 KB unread: the queue is full at the first heartbeat
        hub.heartbeat();
        readUntil(hub, slow.getInputStream(), "mark 1"); // read, slowly: the queue drains
        long droppedBefore = hub.dropped();
        fill(hub, big); // and is full again at the next heartbeat
        hub.heartbeat();
        readUntil(hub, slow.getInputStream(), "mark 2");

        assertThat(droppedBefore).as("the queue was full the first time").isPositive();
        assertThat(hub.dropped()).as("and the second").isGreaterThan(droppedBefore);

        assertThat(hub.clientCount()).as("a slow reader stays connected").isEqualTo(1);
      }
    } finally {
      hub.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * A viewer on a slow link that reads all along is kept while its greeting (the replay of recent
   * frames, ~280 KB) arrives, and gets all of it in order. Written whole, the greeting sat in the
   * write queue above its low mark for two heartbeats, and the viewer was closed as stalled (and,
   * reconnecting, greeted and closed again).
   */
  @Test
  @Timeout(60)
  void aSlowViewerThatReadsAllAlongGetsItsWholeGreeting() throws Exception {
    Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    SseHub hub = new SseHub(2);
    List<String> greeting = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      greeting.add(SseEvent.comment("frame " + i + " " + "f".repeat(20 * 1024)));
    }
    for (int i = 0; i < 120; i++) {
      greeting.add(SseEvent.comment("stats " + i + " " + "s".repeat(300)));
    }
    greeting.add(SseEvent.comment("greeting-end"));
    try {
      HttpServer server = hubServer(vertx, hub, greeting);
      try (Socket slow = rawClient(server.actualPort())) {
        slow.setSoTimeout(10_000);
        awaitClients(hub, 1);
        StringBuilder received = new StringBuilder();
        Thread reader = new Thread(() -> {
          byte[] chunk = new byte[4096];
          try {
            InputStream in = slow.getInputStream();
            while (received.indexOf(": greeting-end") < 0) {
              int n = in.read(chunk);
              if (n < 0) {
                return;
              }
              received.append(new String(chunk, 0, n, StandardCharsets.ISO_8859_1));
              Thread.sleep(100); // 40 KB/s: the greeting takes about 7 s
            }
          } catch (Exception e) {
            received.append("\n[reader stopped: ").append(e).append(']');
          }
        }, "slow-viewer");
        reader.start();
        // The page's stats, every 50 ms here: they fill the queue behind the greeting.
        Thread stats = new Thread(() -> {
          while (reader.isAlive()) {
            hub.broadcast(SseEvent.comment("live stats"));
            try {
              Thread.sleep(50);
            } catch (InterruptedException e) {
              return;
            }
          }
        }, "stats");
        stats.start();
        for (int beat = 0; beat < 3 && reader.isAlive(); beat++) {
          TimeUnit.SECONDS.sleep(2);
          hub.heartbeat();
        }
        reader.join(TimeUnit.SECONDS.toMillis(40));
        stats.join(TimeUnit.SECONDS.toMillis(5));

        assertThat(received.indexOf(": greeting-end")).as("the whole greeting arrived, not a reset").isPositive();
        assertThat(hub.clientCount()).as("the viewer is still connected").isEqualTo(1);
        int at = 0;
        for (String event : greeting) {
          int found = received.indexOf(event, at);
          assertThat(found).as("greeting event %s… in order", event.substring(0, 12)).isGreaterThanOrEqualTo(at);
          at = found + event.length();
        }
      }
    } finally {
      hub.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** {@code view}'s routes on a server of their own. */
  private static HttpServer viewServer(Vertx vertx, LiveView view) throws Exception {
    Router router = Router.router(vertx);
    view.install(router);
    return vertx.createHttpServer().requestHandler(router).listen(0).toCompletionStage().toCompletableFuture().get();
  }

  /**
   * {@code hub} at {@code /events}, with small socket buffers: a peer that does not read fills the
   * write queue after a few KB.
   */
  private static HttpServer hubServer(Vertx vertx, SseHub hub) throws Exception {
    return hubServer(vertx, hub, List.of(SseEvent.comment("hi")));
  }

  /** The same, greeting each client with {@code greeting}. */
  private static HttpServer hubServer(Vertx vertx, SseHub hub, List<String> greeting) throws Exception {
    Router router = Router.router(vertx);
    router.get("/events").handler(ctx -> hub.accept(ctx, greeting).run());
    return vertx.createHttpServer(new HttpServerOptions().setSendBufferSize(4096))
        .requestHandler(router).listen(0).toCompletionStage().toCompletableFuture().get();
  }

  /** A client with a small receive buffer that has asked for {@code /events}, and reads only when told. */
  private static Socket rawClient(int port) throws Exception {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096);
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    socket.getOutputStream().write(
        "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return socket;
  }

  private static void fill(SseHub hub, String event) {
    for (int i = 0; i < 32; i++) {
      hub.broadcast(event);
    }
  }

  /**
   * Reads the raw stream until {@code mark} comes, broadcasting it every 50 ms meanwhile (dropped
   * while the queue is full): once it arrives, the queue had room, so it drained.
   */
  private static void readUntil(SseHub hub, InputStream in, String mark) throws Exception {
    StringBuilder tail = new StringBuilder();
    byte[] chunk = new byte[2048];
    long nextMark = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (tail.indexOf(": " + mark) < 0) {
      assertThat(System.nanoTime()).as("'" + mark + "' arrived in time").isLessThan(deadline);
      if (System.nanoTime() >= nextMark) {
        hub.broadcast(SseEvent.comment(mark));
        nextMark = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
      }
      int n = in.read(chunk);
      assertThat(n).as("the stream is still open").isPositive();
      tail.append(new String(chunk, 0, n, StandardCharsets.ISO_8859_1));
      if (tail.length() > 4096) {
        tail.delete(0, tail.length() - 64);
      }
      Thread.sleep(1); // a slow reader
    }
  }

  /**
   * A client that stopped reading (its write queue full at two heartbeats in a row) is closed and
   * its place freed; one that reads stays; above the cap a client gets 503 with a reason.
   */
  @Test
  @Timeout(60)
  void aClientThatStopsReadingIsClosedAndOneAboveTheCapGets503() throws Exception {
    Vertx vertx = Vertx.vertx(TestPipelines.TIGHT.vertxOptions());
    SseHub hub = new SseHub(2);
    try {
      HttpServer server = hubServer(vertx, hub);
      URI events = URI.create("http://127.0.0.1:" + server.actualPort() + "/events");
      HttpClient http = HttpClient.newHttpClient();

      HttpResponse<InputStream> reader =
          http.send(HttpRequest.newBuilder(events).build(), HttpResponse.BodyHandlers.ofInputStream());
      assertThat(reader.statusCode()).isEqualTo(200);
      Set<String> marks = ConcurrentHashMap.newKeySet();
      Thread drain = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(reader.body(), StandardCharsets.UTF_8))) {
          for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.startsWith(": mark ")) {
              marks.add(line);
            }
          }
        } catch (java.io.IOException e) {
          // closed at the end of the test
        }
      });
      drain.setDaemon(true);
      drain.start();

      try (Socket stalled = rawClient(server.actualPort())) {
        awaitClients(hub, 2);

        HttpResponse<InputStream> third =
            http.send(HttpRequest.newBuilder(events).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = third.body()) {
          assertThat(third.statusCode()).isEqualTo(503);
          assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).contains("2 viewers");
        }

        String big = SseEvent.comment("x".repeat(16 * 1024));
        for (int i = 0; i < 32; i++) { // 512 KB, slowly enough for the reader to keep up
          hub.broadcast(big);
          Thread.sleep(10);
        }
        awaitCaughtUp(hub, marks, "mark 1");
        hub.heartbeat();
        awaitCaughtUp(hub, marks, "mark 2");
        assertThat(hub.clientCount()).as("one full queue is not yet a stalled client").isEqualTo(2);
        hub.heartbeat();
        awaitClients(hub, 1);

        stalled.setSoTimeout(10_000);
        InputStream in = stalled.getInputStream();
        try {
          while (in.read(new byte[8192]) >= 0) {
            // what the kernel buffered before the close
          }
        } catch (java.net.SocketException reset) {
          // closed with data unsent: a reset
        }
        HttpResponse<InputStream> again =
            http.send(HttpRequest.newBuilder(events).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(again.statusCode()).as("the closed client's place is free").isEqualTo(200);
        again.body().close();
      }
      reader.body().close();
    } finally {
      hub.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Broadcasts {@code mark} until the reading client has it: all that was sent before has then
   * reached it, and its write queue has room at the next heartbeat however slowly it was read.
   */
  private static void awaitCaughtUp(SseHub hub, Set<String> marks, String mark) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!marks.contains(": " + mark) && System.nanoTime() < deadline) {
      hub.broadcast(SseEvent.comment(mark)); // dropped for a client whose queue is full: sent again
      Thread.sleep(50);
    }
    assertThat(marks).contains(": " + mark);
  }

  private static void awaitClients(SseHub hub, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (hub.clientCount() != count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(hub.clientCount()).isEqualTo(count);
  }

  /** Reads up to the next blank line; skips comments and the retry field. */
  private static Map<String, String> nextEvent(BufferedReader lines) throws Exception {
    String name = null;
    List<String> data = new ArrayList<>();
    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
      if (line.isEmpty()) {
        if (name != null) {
          return Map.of("event", name, "data", String.join("\n", data));
        }
      } else if (line.startsWith("event: ")) {
        name = line.substring(7);
      } else if (line.startsWith("data: ")) {
        data.add(line.substring(6));
      }
    }
    throw new AssertionError("the event stream ended");
  }

  private static DecodedFrame frame(int w, int h) {
    byte[] rgb = new byte[3 * w * h];
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (byte) (i % 251);
    }
    return new DecodedFrame(w, h, rgb);
  }

  private static ClassActivationMap cam() {
    float[] heat = new float[16];
    heat[5] = 1f;
    return new ClassActivationMap(0, 4, 4, heat, 0.375f, 0.375f, new float[] {0.25f, 0.25f, 0.5f, 0.5f});
  }

  private static Prediction prediction(String id) {
    return new Prediction(
        id,
        new Prediction.Source("frames", 0, 1, 0),
        new Prediction.Model("m", "1"),
        List.of(new Prediction.Score("circle", 0, 0.9), new Prediction.Score("ring", 5, 0.05)),
        new Prediction.Cam("circle", new Prediction.Point(0.375, 0.375), new double[] {0.25, 0.25, 0.5, 0.5}, null),
        4,
        new Prediction.Latency(1, 2, 3));
  }
}
