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
 * ({@link HttpServerResponse#writeQueueFull()}) the event is dropped for that client alone. One
 * whose queue was full at two heartbeats in a row and never drained between them has stopped
 * reading and is closed; one that reads, however slowly, stays.
 * At most {@link #MAX_CLIENTS} are connected at once; more get 503.
 */
final class SseHub {
  /**
   * Viewers at once. Each one costs the event loop a write per event and up to a full write queue
   * of memory; a management port serves a few operators, not an audience.
   */
  static final int MAX_CLIENTS = 32;

  private final int maxClients;
  private final List<Client> clients = new CopyOnWriteArrayList<>();
  private final AtomicLong dropped = new AtomicLong();
  private boolean closed;

  SseHub() {
    this(MAX_CLIENTS);
  }

  SseHub(int maxClients) {
    this.maxClients = maxClients;
  }

  /**
   * Admits the request as an event stream, or refuses it (the hub closed or full), and returns the
   * rest: the stream's headers and {@code greeting}, or the 503. Run it at once, in the same
   * handler on the request's event loop; the caller may hold a lock for the admission alone.
   * Broadcasts from other threads since the admission queue behind that handler on the same event
   * loop, so the client sees the greeting first and misses nothing after it.
   */
  Runnable accept(RoutingContext ctx, List<String> greeting) {
    HttpServerResponse response = ctx.response();
    Client client = new Client(Vertx.currentContext(), response);
    String refusal = admit(client);
    if (refusal != null) {
      return () -> response
          .setStatusCode(503)
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
          .putHeader(HttpHeaders.RETRY_AFTER, "30")
          .end(refusal + "\n");
    }
    return () -> {
      response
          .setChunked(true)
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
          // reverse proxies (nginx) must pass events through as they come, not buffer them
          .putHeader("X-Accel-Buffering", "no");
      response.drainHandler(v -> client.drained = true);
      response.closeHandler(v -> clients.remove(client));
      response.exceptionHandler(e -> clients.remove(client));
      // one write, not one per replayed event: a replay is ~130 events
      client.send(String.join("", greeting));
    };
  }

  /** Adds the client, or says why not. Locked with {@link #close()}: none joins after it. */
  private synchronized String admit(Client client) {
    if (closed) {
      return "The live view is shutting down.";
    }
    if (clients.size() >= maxClients) {
      return "The live view has " + maxClients + " viewers already, its limit; try again later.";
    }
    clients.add(client);
    return null;
  }

  /** Sends one formatted event (see {@link SseEvent}) to every client. Any thread. */
  void broadcast(String event) {
    for (Client client : clients) {
      client.context.runOnContext(v -> client.send(event));
    }
  }

  /**
   * Sends a heartbeat comment to every client and closes those whose write queue was full at this
   * heartbeat and the one before and did not drain in between: they stopped reading (a frozen tab,
   * a peer gone behind a proxy that keeps the connection), and would hold a place and a full queue
   * for good. A viewer on a slow link fills its queue too, but drains it. Any thread.
   */
  void heartbeat() {
    String event = SseEvent.comment("heartbeat");
    for (Client client : clients) {
      client.context.runOnContext(v -> client.heartbeat(event));
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
    synchronized (this) {
      closed = true;
    }
    for (Client client : clients) {
      clients.remove(client);
      client.context.runOnContext(v -> client.response.end());
    }
  }

  /** One connection; its methods run on {@link #context}, the connection's event loop. */
  private final class Client {
    final Context context;
    final HttpServerResponse response;
    /** Whether the write queue was full at the last heartbeat. */
    private boolean fullAtLastHeartbeat;
    /** Whether the write queue drained (fell below its low mark) since the last heartbeat. */
    private boolean drained;

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

    void heartbeat(String event) {
      boolean full = response.writeQueueFull();
      boolean stalled = full && fullAtLastHeartbeat && !drained;
      drained = false;
      if (stalled && !response.closed()) {
        clients.remove(this);
        // Not end(): its last chunk would wait behind the full queue. A reset closes the
        // connection (HTTP/1.1) or the stream (HTTP/2) and drops what is queued.
        response.reset();
        return;
      }
      fullAtLastHeartbeat = full;
      send(event);
    }
  }
}
