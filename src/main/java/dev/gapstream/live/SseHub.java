package dev.gapstream.live;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The connected Server-Sent Events clients. {@link #broadcast(String)} may be called from any
 * thread: each client's writes are handed to the event loop that owns its connection. A client
 * that cannot keep up loses events instead of growing a queue: when its write queue is full
 * ({@link HttpServerResponse#writeQueueFull()}) the event is dropped for that client alone.
 */
final class SseHub {
  private final List<Client> clients = new CopyOnWriteArrayList<>();
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean closed;

  /**
   * Turns the request into an event stream and sends {@code greeting}, in order, before any
   * broadcast. Runs on the request's event loop.
   */
  void accept(RoutingContext ctx, List<String> greeting) {
    HttpServerResponse response = ctx.response();
    if (closed) {
      response.setStatusCode(503).end();
      return;
    }
    response
        .setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        // reverse proxies (nginx) must pass events through as they come, not buffer them
        .putHeader("X-Accel-Buffering", "no");
    Client client = new Client(Vertx.currentContext(), response);
    response.closeHandler(v -> clients.remove(client));
    response.exceptionHandler(e -> clients.remove(client));
    // Added before the greeting: broadcasts from other threads queue behind this task on the
    // same event loop, so the client sees the greeting first and misses nothing after it.
    clients.add(client);
    // one write, not one per replayed event: a replay is ~130 events
    client.send(String.join("", greeting));
  }

  /** Sends one formatted event (see {@link SseEvent}) to every client. Any thread. */
  void broadcast(String event) {
    for (Client client : clients) {
      client.context.runOnContext(v -> client.send(event));
    }
  }

  int clientCount() {
    return clients.size();
  }

  /** Events not sent because a client's write queue was full. */
  long dropped() {
    return dropped.get();
  }

  /** Ends every stream; later connections get 503. Any thread. */
  void close() {
    closed = true;
    for (Client client : clients) {
      clients.remove(client);
      client.context.runOnContext(v -> client.response.end());
    }
  }

  /** One connection; {@link #send(String)} runs on {@link #context}, the connection's event loop. */
  private final class Client {
    final Context context;
    final HttpServerResponse response;

    Client(Context context, HttpServerResponse response) {
      this.context = context;
      this.response = response;
    }

    void send(String event) {
      if (response.ended() || response.closed()) {
        clients.remove(this);
      } else if (response.writeQueueFull()) {
        dropped.incrementAndGet();
      } else {
        response.write(event);
      }
    }
  }
}
