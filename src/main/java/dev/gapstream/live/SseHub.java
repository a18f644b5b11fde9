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
 * whose queue was full at two heartbeats in a row, and none of whose writes reached its socket
 * between them, has stopped reading and is closed; one that reads, however slowly, stays.
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
      response.closeHandler(v -> clients.remove(client));
      response.exceptionHandler(e -> clients.remove(client));
      client.greet(greeting);
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
   * heartbeat and the one before and none of whose writes reached the socket in between: they
   * stopped reading (a frozen tab, a peer gone behind a proxy that keeps the connection), and would
   * hold a place and a full queue for good. A viewer on a slow link fills its queue too, but its
   * writes go out, one after another. Any thread.
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

  /**
   * One connection; its methods run on {@link #context}, the connection's event loop.
   *
   * <p>Whether it reads is told by its writes reaching the socket, not by its write queue
   * draining: Vert.x counts that queue in messages (full at 16 behind 64 KB in the socket's buffer,
   * drained at 8), so a viewer reading all along at under ~10 KB/s, 8 frames in 15 s, never drained
   * it between two heartbeats and was closed as stalled, and after its reconnect greeted (~300 KB)
   * and closed again. The greeting goes in chunks for the same reason: written whole, its one write
   * took a slow viewer longer than two heartbeats to read.
   */
  private final class Client {
    /** The most of the greeting written at once: a few events a write, not one write each (~130). */
    static final int GREETING_CHUNK = 16 * 1024;

    final Context context;
    final HttpServerResponse response;
    /** Whether the write queue was full at the last heartbeat. */
    private boolean fullAtLastHeartbeat;
    /** Whether a write reached the socket since the last heartbeat: the client reads. */
    private boolean wrote;

    Client(Context context, HttpServerResponse response) {
      this.context = context;
      this.response = response;
    }

    /** Writes the greeting whole, full queue or not: it is bounded, and the page needs all of it. */
    void greet(List<String> events) {
      if (response.ended() || response.closed()) { // gone before its greeting
        clients.remove(this);
        return;
      }
      StringBuilder chunk = new StringBuilder();
      for (String event : events) {
        if (chunk.length() > 0 && chunk.length() + event.length() > GREETING_CHUNK) {
          write(chunk.toString());
          chunk.setLength(0);
        }
        chunk.append(event);
      }
      if (chunk.length() > 0) {
        write(chunk.toString());
      }
    }

    void send(String event) {
      if (response.ended() || response.closed()) {
        clients.remove(this);
      } else if (response.writeQueueFull()) {
        dropped.incrementAndGet();
      } else {
        write(event);
      }
    }

    private void write(String data) {
      response.write(data).onSuccess(v -> wrote = true);
    }

    void heartbeat(String event) {
      boolean full = response.writeQueueFull();
      boolean stalled = full && fullAtLastHeartbeat && !wrote;
      wrote = false;
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
