package dev.gapstream.http;

import dev.gapstream.GapstreamException;
import dev.gapstream.config.ConfigKeys;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.SortedMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management HTTP port: {@code GET /metrics} (Prometheus text), {@code GET /health/live} and
 * {@code GET /health/ready}, each answering {@code HEAD} as well. More routes (a live view,
 * Server-Sent Events) are added through {@link #router()} or the route installers given to {@link
 * #start(Vertx, int, PrometheusMeterRegistry, Health, List)}.
 *
 * <p>Handlers run on the event loop and never block: the scrape, which may take milliseconds with
 * many meters, runs on a worker thread. Created and closed from any thread.
 */
public final class ManagementServer {
  /** The Prometheus text format version our scrape produces. */
  public static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Logger LOG = LoggerFactory.getLogger(ManagementServer.class);
  private static final String JSON = "application/json";

  private final Router router;
  private final HttpServer server;

  private ManagementServer(Router router, HttpServer server) {
    this.router = router;
    this.server = server;
  }

  /**
   * Starts serving on {@code port} (0 for a free one) on all interfaces.
   *
   * @return completes once the port is bound, or fails naming {@code http.port} and the bind error
   */
  public static Future<ManagementServer> start(
      Vertx vertx, int port, PrometheusMeterRegistry registry, Health health) {
    return start(vertx, port, registry, health, List.of());
  }

  /** As {@link #start(Vertx, int, PrometheusMeterRegistry, Health)}, then installs extra routes. */
  public static Future<ManagementServer> start(
      Vertx vertx,
      int port,
      PrometheusMeterRegistry registry,
      Health health,
      List<Consumer<Router>> routeInstallers) {
    // Loads Vert.x's JSON codec (and Jackson) on the calling thread, not in the first health
    // request on an event loop: class initialisation takes 100+ ms.
    new JsonObject().put("status", "UP").encode();
    Router router = Router.router(vertx);
    getOrHead(router, "/metrics").handler(ctx -> scrape(vertx, registry, ctx));
    getOrHead(router, "/health/live").handler(ctx -> live(health, ctx));
    getOrHead(router, "/health/ready").handler(ctx -> ready(health, ctx));
    routeInstallers.forEach(installer -> installer.accept(router));
    // HTTP/1.1 only: Prometheus and the kubelet's probes speak it, and a client asking to upgrade
    // to cleartext HTTP/2 (the JDK's HttpClient does by default) would pull netty's HTTP/2 stack
    // into the event loop on its first request, for nothing.
    return vertx
        .createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false))
        .requestHandler(router)
        .listen(port)
        .recover(e -> Future.failedFuture(
            new GapstreamException(ConfigKeys.HTTP_PORT + "=" + port + ": cannot listen: " + e.getMessage(), e)))
        .map(
            server -> {
              LOG.info("Management server on port {}", server.actualPort());
              return new ManagementServer(router, server);
            });
  }

  /** The bound port (the chosen one when started with 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** The router, for routes added after start. */
  public Router router() {
    return router;
  }

  /** Stops accepting connections. */
  public Future<Void> close() {
    return server.close();
  }

  /**
   * A route for {@code GET} and {@code HEAD} requests to {@code path}: HEAD as uptime checkers and
   * load balancers probe, a GET's status and headers.
   */
  public static Route getOrHead(Router router, String path) {
    return router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD);
  }

  private static void scrape(Vertx vertx, PrometheusMeterRegistry registry, RoutingContext ctx) {
    vertx
        .executeBlocking(registry::scrape, false)
        .onSuccess(
            text ->
                ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, METRICS_CONTENT_TYPE).end(text))
        .onFailure(ctx::fail);
  }

  private static void live(Health health, RoutingContext ctx) {
    JsonObject body = new JsonObject().put("status", health.isLive() ? "UP" : "DOWN");
    send(ctx, health.isLive() ? 200 : 503, body);
  }

  private static void ready(Health health, RoutingContext ctx) {
    SortedMap<String, Boolean> checks = health.checks();
    boolean ready = !checks.isEmpty() && !checks.containsValue(Boolean.FALSE);
    JsonObject checkJson = new JsonObject();
    checks.forEach(checkJson::put);
    JsonObject body =
        new JsonObject().put("status", ready ? "UP" : "DOWN").put("checks", checkJson);
    send(ctx, ready ? 200 : 503, body);
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body.encode());
  }
}
