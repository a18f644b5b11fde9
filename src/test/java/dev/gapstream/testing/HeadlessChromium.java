package dev.gapstream.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's {@code chromium} in headless mode, driven through the Chrome DevTools Protocol over a
 * WebSocket (java.net.http): navigate, evaluate JavaScript, take a screenshot. A live page keeps
 * an event stream open, so it never "finishes loading"; asking the DOM over CDP is what makes
 * tests on it deterministic. Fails (never skips) when chromium is not installed.
 *
 * <p>Not thread safe: one test thread drives it. Every call is bounded by {@link #CALL_TIMEOUT}.
 */
public final class HeadlessChromium implements AutoCloseable {
  public static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");

  private final Process process;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

  private HeadlessChromium(Process process, String pageSocketUrl) throws Exception {
    this.process = process;
    this.socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .connectTimeout(CALL_TIMEOUT)
            .buildAsync(URI.create(pageSocketUrl), new Listener())
            .get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The chromium executable on the PATH; fails the test with how to install it when missing. */
  public static Path executable() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : List.of("chromium", "chromium-browser")) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    throw new AssertionError(
        "chromium is not installed (the browser test needs it): apt-get install -y chromium;"
            + " .ci/run installs it");
  }

  /** Starts chromium with a blank page of {@code width × height} CSS pixels. */
  public static HeadlessChromium launch(Path profileDir, int width, int height) throws Exception {
    List<String> command =
        List.of(
            executable().toString(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            "--user-data-dir=" + profileDir,
            "--window-size=" + width + "," + height,
            "about:blank");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    // Chromium keeps its single-instance socket in a directory of its own under TMPDIR, and leaves
    // it behind when it exits: under the profile, it goes with the test's temporary directory.
    builder.environment().put("TMPDIR", Files.createDirectories(profileDir.resolve("tmp")).toString());
    Process process = builder.start();
    CompletableFuture<String> browserUrl = new CompletableFuture<>();
    List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  lines.add(line);
                  Matcher m = DEVTOOLS.matcher(line);
                  if (m.find()) {
                    browserUrl.complete(m.group(1));
                  }
                }
              } catch (IOException e) {
                // the process ended; the wait below reports it
              }
              browserUrl.completeExceptionally(new AssertionError("chromium exited: " + lines));
            },
            "chromium-output");
    reader.setDaemon(true);
    reader.start();
    try {
      URI browser = URI.create(browserUrl.get(60, TimeUnit.SECONDS));
      return new HeadlessChromium(process, pageSocket(browser));
    } catch (Exception | AssertionError e) {
      stop(process);
      throw e;
    }
  }

  /** The WebSocket of the first page target, from the DevTools HTTP endpoint's target list. */
  private static String pageSocket(URI browser) throws Exception {
    URI list = URI.create("http://" + browser.getHost() + ":" + browser.getPort() + "/json/list");
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(HttpRequest.newBuilder(list).timeout(CALL_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    JsonArray targets = new JsonArray(response.body());
    for (int i = 0; i < targets.size(); i++) {
      JsonObject target = targets.getJsonObject(i);
      if ("page".equals(target.getString("type"))) {
        return target.getString("webSocketDebuggerUrl");
      }
    }
    throw new AssertionError("chromium has no page target: " + response.body());
  }

  /** Sends one CDP command and returns its {@code result}; fails on a CDP error or timeout. */
  public JsonObject call(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> reply = new CompletableFuture<>();
    pending.put(id, reply);
    socket
        .sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true)
        .get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    JsonObject message = reply.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (message.containsKey("error")) {
      throw new AssertionError(method + " failed: " + message.getJsonObject("error").encode());
    }
    return message.getJsonObject("result");
  }

  public void navigate(String url) throws Exception {
    call("Page.navigate", new JsonObject().put("url", url));
  }

  /** Evaluates {@code expression} in the page and returns its value (JSON-compatible values only). */
  public Object evaluate(String expression) throws Exception {
    JsonObject result =
        call(
            "Runtime.evaluate",
            new JsonObject().put("expression", expression).put("returnByValue", true));
    if (result.containsKey("exceptionDetails")) {
      throw new AssertionError("page script failed: " + result.getJsonObject("exceptionDetails").encode());
    }
    return result.getJsonObject("result").getValue("value");
  }

  /** Evaluates {@code expression} (a {@code JSON.stringify(...)} call) and parses the object. */
  public JsonObject evaluateJson(String expression) throws Exception {
    return new JsonObject((String) evaluate(expression));
  }

  /** Polls {@code condition} until it holds; fails with {@code describe}'s text when time runs out. */
  public static void await(Duration timeout, BooleanSupplier condition, Supplier<String> describe)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + ": " + describe.get());
      }
      Thread.sleep(250);
    }
  }

  /** Writes a PNG of the viewport to {@code file}. */
  public void screenshot(Path file) throws Exception {
    JsonObject result = call("Page.captureScreenshot", new JsonObject().put("format", "png"));
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, Base64.getDecoder().decode(result.getString("data")));
  }

  @Override
  public void close() {
    try {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
    } catch (RuntimeException e) {
      // the browser is going away regardless
    }
    stop(process);
  }

  /**
   * Ends the browser and every process it started. Its helpers (renderer, network, storage) can
   * outlive it by moments and write into the profile meanwhile (six of eight were still running
   * once it had exited), and a test's temporary profile directory then fails to delete
   * ("DirectoryNotEmptyException: …/Default"), so they are waited for too, within one deadline;
   * once the browser is gone they can no longer be found from it.
   */
  private static void stop(Process process) {
    List<ProcessHandle> helpers = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      helpers.forEach(ProcessHandle::destroy);
      CompletableFuture.allOf(helpers.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new))
          .get(10, TimeUnit.SECONDS);
    } catch (TimeoutException | ExecutionException e) {
      helpers.forEach(ProcessHandle::destroyForcibly);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      helpers.forEach(ProcessHandle::destroyForcibly);
      Thread.currentThread().interrupt();
    }
  }

  /** Collects (possibly fragmented) text messages and completes the matching call. */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        JsonObject message = new JsonObject(partial.toString());
        partial.setLength(0);
        Integer id = message.getInteger("id");
        if (id != null) {
          CompletableFuture<JsonObject> reply = pending.remove(id);
          if (reply != null) {
            reply.complete(message);
          }
        }
      }
      webSocket.request(1);
      return null;
    }
  }
}
