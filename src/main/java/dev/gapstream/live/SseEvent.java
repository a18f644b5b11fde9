package dev.gapstream.live;

/**
 * Server-Sent Events wire format (the WHATWG "event stream"): one event is {@code event:} and one
 * {@code data:} line per line of payload, ended by a blank line; a line starting with a colon is a
 * comment, which keeps idle connections (and proxies) from timing out.
 */
final class SseEvent {
  private SseEvent() {}

  /** A named event; a payload with line breaks is sent as several {@code data:} lines. */
  static String of(String name, String data) {
    if (name.indexOf('\n') >= 0 || name.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("event name with a line break: " + name);
    }
    StringBuilder out = new StringBuilder(data.length() + name.length() + 16);
    out.append("event: ").append(name).append('\n');
    for (String line : data.split("\r\n|\r|\n", -1)) {
      out.append("data: ").append(line).append('\n');
    }
    return out.append('\n').toString();
  }

  /** A comment line: ignored by browsers, but it proves the connection is alive. */
  static String comment(String text) {
    return ": " + text.replace('\n', ' ').replace('\r', ' ') + "\n\n";
  }

  /** Tells the browser how long to wait before reconnecting after the stream breaks. */
  static String retry(long millis) {
    return "retry: " + millis + "\n\n";
  }
}
