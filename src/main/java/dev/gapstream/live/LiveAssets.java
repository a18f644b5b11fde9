package dev.gapstream.live;

import dev.gapstream.GapstreamException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;

/**
 * The page's three static files, read from the classpath ({@code /live/}) once at start-up and
 * served from memory: no file access on the event loop, and no extraction of jar resources to a
 * cache directory. Immutable.
 */
final class LiveAssets {
  /**
   * The page runs its own script and style only and shows frames as {@code data:} images: a label
   * or frame id that got past the page's escaping still could not load or run anything.
   */
  static final String POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

  private final Asset html = load("index.html", "text/html; charset=utf-8");
  private final Asset script = load("live.js", "text/javascript; charset=utf-8");
  private final Asset style = load("live.css", "text/css; charset=utf-8");

  void html(RoutingContext ctx) {
    html.send(ctx);
  }

  void script(RoutingContext ctx) {
    script.send(ctx);
  }

  void style(RoutingContext ctx) {
    style.send(ctx);
  }

  private static Asset load(String name, String contentType) {
    String path = "/live/" + name;
    try (InputStream in = LiveAssets.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new GapstreamException("live view resource missing from the classpath: " + path);
      }
      return new Asset(Buffer.buffer(in.readAllBytes()), contentType);
    } catch (IOException e) {
      throw new GapstreamException("cannot read live view resource " + path + ": " + e.getMessage(), e);
    }
  }

  private record Asset(Buffer body, String contentType) {
    void send(RoutingContext ctx) {
      ctx.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, contentType)
          // small and changing with each release: not worth stale-cache surprises
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
          .putHeader("X-Content-Type-Options", "nosniff")
          .putHeader("Content-Security-Policy", POLICY)
          .end(body.copy());
    }
  }
}
