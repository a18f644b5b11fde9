package dev.gapstream.logging;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import org.slf4j.helpers.MessageFormatter;

/**
 * {@code %escapedMsg}: the message, with control characters in its arguments written as escapes
 * ({@code \n}, {@code \r}, {@code \t}, else {@code \}{@code uXXXX}). Arguments carry what others
 * wrote, a frame's {@code content-type} or {@code frame-id} header into a dead letter's line, and
 * a line break there started a line of the sender's own in the log (a forged ERROR), an escape
 * sequence drove the operator's terminal. The message's own text is the code's, and its line
 * breaks stay.
 */
public final class EscapedMessageConverter extends ClassicConverter {

  @Override
  public String convert(ILoggingEvent event) {
    Object[] args = event.getArgumentArray();
    if (args == null || args.length == 0) {
      return event.getFormattedMessage();
    }
    Object[] escaped = new Object[args.length];
    for (int i = 0; i < args.length; i++) {
      escaped[i] = escapedArgument(args[i]);
    }
    return MessageFormatter.arrayFormat(event.getMessage(), escaped).getMessage();
  }

  /** The argument as text (its {@code toString()} called once), escaped where it needs to be. */
  private static Object escapedArgument(Object arg) {
    if (arg == null || arg.getClass().isArray()) {
      return arg; // arrays are written element by element, and their elements are numbers mostly
    }
    String text;
    try {
      text = arg.toString();
    } catch (RuntimeException e) {
      return arg; // the formatter writes its own placeholder for a failing toString()
    }
    return text != null && needsEscaping(text) ? escape(text) : text;
  }

  private static boolean needsEscaping(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (isControl(text.charAt(i))) {
        return true;
      }
    }
    return false;
  }

  /** C0 and C1 controls and DEL, and Unicode's line and paragraph separators. */
  private static boolean isControl(char c) {
    return Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
  }

  static String escape(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (isControl(c)) {
            sb.append(String.format("\\u%04X", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }
}
