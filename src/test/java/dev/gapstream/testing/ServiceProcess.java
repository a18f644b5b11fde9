package dev.gapstream.testing;

import dev.gapstream.pipeline.GapstreamService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code gapstream run} in its own JVM, for tests where a process must die (SIGTERM, {@code kill
 * -9}) or run with its own heap. It runs from {@code target/classes} on the test JVM's class path
 * (surefire's {@code java.class.path} holds every dependency), so it needs no packaged jar: {@code
 * mvn verify} runs the tests before {@code package}. Output (stdout and stderr) goes to a log file
 * the test can read; the management port is read from the start-up line.
 */
public final class ServiceProcess implements AutoCloseable {

  private static final Pattern PORT = Pattern.compile("management on port (\\d+)");
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final Process process;
  private final Path log;
  private final Path tmp;
  private int httpPort = -1;

  private ServiceProcess(String name, Process process, Path log, Path tmp) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.tmp = tmp;
  }

  /**
   * Starts {@code run} with the test defaults (management port 0, one inference thread, batches not
   * calibrated, the model override if any), then {@code settings} as {@code --set} options.
   *
   * @param jvmOptions e.g. {@code -Xmx384m}; a default heap of 512 MB applies when none is given
   */
  public static ServiceProcess start(
      String name, Path dir, Map<String, String> settings, List<String> jvmOptions) throws IOException {
    return start(name, dir, settings, jvmOptions, TestPipelines.TIGHT.maxEventLoopExecuteTime());
  }

  /**
   * As {@link #start(String, Path, Map, List)}, with the event loop's limit {@code eventLoopLimit}
   * instead of the in-process tests' 100 ms: for tests that run more JVMs than there are cores,
   * where a runnable event loop can wait longer than that for one (Vert.x's checker reads wall
   * time, so a trivial task read as a block there: 161 ms inside {@code LockSupport.unpark}, three
   * replicas and the broker on two cores).
   */
  public static ServiceProcess start(
      String name, Path dir, Map<String, String> settings, List<String> jvmOptions, Duration eventLoopLimit)
      throws IOException {
    return start(name, dir, settings, jvmOptions, eventLoopLimit, System.getProperty("java.class.path"));
  }

  /** As {@link #start(String, Path, Map, List, Duration)}, on {@code classPath} instead of the test JVM's. */
  public static ServiceProcess start(
      String name, Path dir, Map<String, String> settings, List<String> jvmOptions, Duration eventLoopLimit,
      String classPath) throws IOException {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("http.port", "0");
    all.put("inference.threads", "1");
    all.put("batch.calibrate", "false"); // batches as configured, whatever this machine's timing
    all.putAll(TestPipelines.modelOverride());
    all.putAll(settings);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:+UseSerialGC");
    if (jvmOptions.stream().noneMatch(o -> o.startsWith("-Xmx"))) {
      command.add("-Xmx512m");
    }
    command.addAll(jvmOptions);
    // Its own temporary directory inside the test's: ONNX Runtime extracts its native libraries
    // (24 MB) to java.io.tmpdir and deletes them at exit, which a kill -9 skips. Left in /tmp,
    // every run of the kill tests leaked them; here the test's @TempDir takes them away.
    Path tmp = Files.createDirectories(dir.resolve(name + "-tmp"));
    command.add("-Djava.io.tmpdir=" + tmp);
    // Each collection's pause, with its wall-clock time, into the log: close() leaves those out of
    // the event loop's blocked time.
    command.add("-Xlog:gc:stdout:time");
    // The event loop's limit the in-process tests keep (TestPipelines.TIGHT): close() fails on a block.
    command.add("-D" + GapstreamService.Options.EVENT_LOOP_WARN_PROPERTY + "=" + eventLoopLimit.toMillis());
    command.add("-Dgapstream.home=" + System.getProperty("gapstream.home", "."));
    command.add("-cp");
    command.add(classPath);
    command.add("dev.gapstream.Main");
    command.add("run");
    all.forEach((k, v) -> command.add("--set=" + k + "=" + v));
    Path log = dir.resolve(name + ".log");
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    process.getOutputStream().close();
    return new ServiceProcess(name, process, log, tmp);
  }

  /** Waits for the start-up line (the pipeline deployed, the management port bound). */
  public ServiceProcess awaitRunning(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Matcher m = PORT.matcher(log());
      if (m.find()) {
        httpPort = Integer.parseInt(m.group(1));
        return this;
      }
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + tail());
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new AssertionError(name + " did not start in " + timeout + ":\n" + tail());
  }

  /** Waits until {@code /health/ready} answers 200. */
  public ServiceProcess awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (status("/health/ready") == 200) {
        return this;
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new AssertionError(name + " not ready in " + timeout + ": " + body("/health/ready") + "\n" + tail());
  }

  /** The HTTP status of a GET on the management port, or -1 when nothing answers. */
  public int status(String path) {
    try {
      return get(path).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** The body of a GET on the management port, or an empty string when nothing answers. */
  public String body(String path) {
    try {
      return get(path).body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    if (httpPort < 0) {
      throw new ConnectException("not started");
    }
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(Duration.ofSeconds(5))
            .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** SIGTERM: the shutdown hook drains gracefully. */
  public void terminate() {
    process.destroy();
  }

  /** SIGKILL: no hook, no drain, nothing flushed. */
  public void kill() {
    process.destroyForcibly();
  }

  /** SIGSTOP: the whole JVM stands still, as in a long GC pause, until {@link #wake()}. */
  public void freeze() throws Exception {
    signal("STOP");
  }

  /** SIGCONT after {@link #freeze()}. */
  public void wake() throws Exception {
    signal("CONT");
  }

  private void signal(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  /** Waits for the process to exit and returns its status. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(name + " did not exit in " + timeout + ":\n" + tail());
    }
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public int httpPort() {
    return httpPort;
  }

  /**
   * The most resident memory the process has had so far (Linux's {@code VmHWM}): the heap, and the
   * native memory no JVM flag bounds, ONNX Runtime's among it.
   */
  public long peakResidentBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmHWM in /proc/" + process.pid() + "/status");
  }

  /** The process's {@code java.io.tmpdir}, inside the test's directory. */
  public Path temporaryDirectory() {
    return tmp;
  }

  /** Everything the process wrote so far. */
  public String log() throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  /** The last lines of the log, for failure messages. */
  public String tail() {
    try {
      String text = log();
      return text.substring(Math.max(0, text.length() - 6_000));
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  /**
   * Kills the process if it still runs; then fails when Vert.x's blocked-thread checker caught
   * gapstream's code blocking the process's event loop, as {@link BlockedThreadGuard} does in process.
   */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<String> blocked;
    try {
      blocked = BlockedThreadGuard.blocksInLog(log());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!blocked.isEmpty()) {
      throw new AssertionError(name + ": the event loop was blocked: " + blocked);
    }
  }

  /** Closes every one of {@code processes}, then throws the first failure, the others suppressed. */
  public static void closeAll(List<ServiceProcess> processes) {
    RuntimeException failure = null;
    AssertionError blocked = null;
    for (ServiceProcess process : processes) {
      try {
        process.close();
      } catch (AssertionError e) {
        if (blocked == null) {
          blocked = e;
        } else {
          blocked.addSuppressed(e);
        }
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (blocked != null) {
      throw blocked;
    }
    if (failure != null) {
      throw failure;
    }
  }
}
