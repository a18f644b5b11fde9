package dev.gapstream.live;

import static dev.gapstream.http.ManagementServer.getOrHead;

import dev.gapstream.inference.ClassActivationMap;
import dev.gapstream.ingest.DecodedFrame;
import dev.gapstream.pipeline.PredictionTap;
import dev.gapstream.publish.Prediction;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live view on the management port: {@code GET /} and {@code /live} serve a page that shows
 * the most recent frames with their class activation maps, and throughput, latency and batch-size
 * charts; {@code GET /live/events} streams what it draws as Server-Sent Events ({@code hello} on
 * connect, {@code frame} for each sampled frame, {@code stats} once a second, a comment as
 * heartbeat).
 *
 * <p>Threading: {@link #onPrediction} runs on inference workers and only samples (a few frames a
 * second at most) and copies; rendering and JPEG encoding run on one daemon thread behind a queue
 * of {@value #RENDER_QUEUE}, which drops frames when full; statistics are read and encoded once a
 * second on a second daemon thread (JSON encoding can load classes, which must not happen on an
 * event loop); each client's writes run on its connection's event loop, which only writes strings
 * already built. Nothing here blocks an event loop or delays an inference worker.
 */
public final class LiveView implements PredictionTap, AutoCloseable {
  /** Frames kept for, and replayed to, a newly connected page. */
  static final int RECENT_FRAMES = 12;

  /** Stats events replayed on connect, so the charts start with two minutes of history. */
  static final int RECENT_STATS = 120;

  static final int RENDER_QUEUE = 2;
  static final long WATCHED_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  static final long IDLE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(2);
  static final int STATS_WINDOW_SECONDS = 5;
  private static final long HEARTBEAT_MS = 15_000;
  private static final Logger LOG = LoggerFactory.getLogger(LiveView.class);

  private final JsonObject hello;
  private final FrameSampler sampler;
  private final RecentEvents frames = new RecentEvents(RECENT_FRAMES);
  private final RecentEvents stats = new RecentEvents(RECENT_STATS);
  /**
   * Held while an event joins its history and goes out, and while a client is greeted with the
   * history and admitted: each event reaches a new client once, in its greeting or after it.
   */
  private final Object history = new Object();
  private final SseHub hub = new SseHub();
  private final LiveStats liveStats;
  private final LiveAssets assets = new LiveAssets();
  private final ThreadPoolExecutor renderer;
  private final AtomicLong sampled = new AtomicLong();
  private final AtomicLong renderDropped = new AtomicLong();
  private final ScheduledExecutorService ticker;

  /**
   * Starts the render thread and the once-a-second statistics timer. Routes serve nothing until
   * {@link #install(Router)}.
   *
   * @param registry where the pipeline's meters are (read only)
   * @param model the model's name and version, shown in the page title
   */
  public LiveView(MeterRegistry registry, String model, String version) {
    this(registry, model, version, new FrameSampler(WATCHED_INTERVAL_NANOS, IDLE_INTERVAL_NANOS, System::nanoTime));
  }

  LiveView(MeterRegistry registry, String model, String version, FrameSampler sampler) {
    this.sampler = sampler;
    this.liveStats = new LiveStats(registry, STATS_WINDOW_SECONDS);
    this.hello =
        new JsonObject()
            .put("model", model)
            .put("version", version)
            .put("maxFramesPerSecond", TimeUnit.SECONDS.toNanos(1) / WATCHED_INTERVAL_NANOS)
            .put("statsWindowSeconds", STATS_WINDOW_SECONDS);
    // The first encode loads Vert.x's JSON codec and Jackson (100+ ms): do it here, on the
    // constructing thread, not in the first SSE request on an event loop.
    hello.encode();
    this.renderer =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(RENDER_QUEUE),
            r -> daemon(r, "gapstream-live-render"),
            (task, executor) -> renderDropped.incrementAndGet());
    // Its queue only ever holds these two periodic tasks.
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "gapstream-live-stats"));
    ticker.scheduleAtFixedRate(this::publishStats, 1, 1, TimeUnit.SECONDS);
    ticker.scheduleAtFixedRate(this::heartbeat, HEARTBEAT_MS, HEARTBEAT_MS, TimeUnit.MILLISECONDS);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Adds {@code GET /}, {@code /live}, {@code /live/live.js}, {@code /live/live.css} and {@code /live/events}. */
  public void install(Router router) {
    getOrHead(router, "/").handler(assets::html);
    getOrHead(router, "/live").handler(assets::html);
    getOrHead(router, "/live/live.js").handler(assets::script);
    getOrHead(router, "/live/live.css").handler(assets::style);
    router.get("/live/events").handler(this::events);
  }

  /** Samples at most one frame per interval; copies it and queues it for rendering. */
  @Override
  public void onPrediction(DecodedFrame pixels, Prediction prediction, ClassActivationMap cam) {
    if (!sampler.tryAcquire(hub.clientCount() > 0)) {
      return;
    }
    sampled.incrementAndGet();
    FrameEvent frame =
        new FrameEvent(
            pixels.width(), pixels.height(), FrameRenderer.copy(pixels.width(), pixels.height(), pixels.rgb()),
            prediction, cam);
    // A full queue or a closed view: the rejection handler counts the frame as dropped.
    renderer.execute(() -> render(frame));
  }

  /** Frames taken by the sampler. */
  long sampled() {
    return sampled.get();
  }

  /** Sampled frames not rendered: the render queue was full, or the view closed. */
  long renderDropped() {
    return renderDropped.get();
  }

  /** Frames rendered and kept for the next page that connects. */
  int recentFrames() {
    return frames.snapshot().size();
  }

  int clients() {
    return hub.clientCount();
  }

  /** Stops the timers and the render thread and ends every event stream. Any thread; idempotent. */
  @Override
  public void close() {
    ticker.shutdownNow();
    renderer.shutdownNow();
    hub.close();
  }

  private void render(FrameEvent frame) {
    try {
      byte[] jpeg = FrameRenderer.render(frame.pixels(), frame.cam());
      String event = SseEvent.of("frame", frame.toJson(jpeg).encode());
      synchronized (history) {
        frames.add(event);
        hub.broadcast(event);
      }
    } catch (RuntimeException e) {
      // A frame the view cannot draw must not stop the next one; the pipeline is unaffected.
      LOG.warn("Live view could not render frame {}: {}", frame.prediction().frameId(), e.toString());
    }
  }

  private void publishStats() {
    try {
      JsonObject json = liveStats.sample(System.nanoTime());
      json.put("sampledFrames", sampled.get())
          .put("droppedFrames", renderDropped.get())
          .put("droppedEvents", hub.dropped());
      String event = SseEvent.of("stats", json.encode());
      synchronized (history) {
        stats.add(event);
        hub.broadcast(event);
      }
    } catch (RuntimeException e) {
      // an exception would cancel the periodic task: log it and try again next second
      LOG.warn("Live view statistics failed: {}", e.toString());
    }
  }

  private void heartbeat() {
    try {
      hub.heartbeat();
    } catch (RuntimeException e) {
      // as for the statistics: an exception would cancel the periodic task, and with it the reset
      // of stalled viewers
      LOG.warn("Live view heartbeat failed: {}", e.toString());
    }
  }

  private void events(RoutingContext ctx) {
    List<String> greeting = new ArrayList<>();
    greeting.add(SseEvent.retry(2000));
    greeting.add(SseEvent.of("hello", hello.encode()));
    // Held for the two snapshots and the admission alone: the render and stats threads wait on it,
    // so joining and writing the ~400 KB replay come after.
    Runnable greet;
    synchronized (history) {
      greeting.addAll(stats.snapshot());
      greeting.addAll(frames.snapshot());
      greet = hub.accept(ctx, greeting);
    }
    greet.run();
  }
}
