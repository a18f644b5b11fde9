package dev.gapstream.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A table of configuration keys in the manner of Kafka's {@code ConfigDef}: each key has a type, a
 * default, a validator and a one-line doc. {@link #parse} turns the raw string of a key into its
 * typed value and validates it, failing with a {@link ConfigException} that names the key, the bad
 * value and what is allowed.
 *
 * <p>Immutable once built; thread safe to read.
 */
public final class ConfigDef {

  /** How a raw string value is read. */
  public enum Type {
    STRING,
    INT,
    LONG,
    BOOLEAN,
    /** A byte count: a plain number or one with a suffix {@code KiB}, {@code MiB}, {@code GiB}. */
    BYTES
  }

  /**
   * Checks a parsed value; throws {@link ConfigException} naming the key when it is not allowed.
   */
  @FunctionalInterface
  public interface Validator {
    void ensureValid(String key, Object value);

    /** Accepts any value. */
    Validator ANY = (key, value) -> {};
  }

  /** One key: its name, type, default (already typed), validator and documentation. */
  public record Key(String name, Type type, Object defaultValue, Validator validator, String doc) {}

  private final Map<String, Key> keys = new LinkedHashMap<>();

  /** Adds a key; names must be unique. Builder-style, for static initialisers. */
  public ConfigDef define(String name, Type type, Object defaultValue, Validator v, String doc) {
    if (keys.put(name, new Key(name, type, defaultValue, v, doc)) != null) {
      throw new IllegalArgumentException("duplicate config key " + name);
    }
    return this;
  }

  /** The key of that name, if defined. */
  public Optional<Key> key(String name) {
    return Optional.ofNullable(keys.get(name));
  }

  /** Every key, in definition order (unmodifiable). */
  public Map<String, Key> keys() {
    return Collections.unmodifiableMap(keys);
  }

  /** Reads and validates {@code raw} for the key, or returns its default when raw is null. */
  public Object parse(String name, String raw) {
    Key key = keys.get(name);
    if (key == null) {
      throw new ConfigException("unknown configuration key " + name);
    }
    Object value = raw == null ? key.defaultValue() : parseType(key, raw.strip());
    key.validator().ensureValid(name, value);
    return value;
  }

  private static Object parseType(Key key, String raw) {
    try {
      return switch (key.type()) {
        case STRING -> raw;
        case INT -> Integer.parseInt(raw.replace("_", ""));
        case LONG -> Long.parseLong(raw.replace("_", ""));
        case BOOLEAN -> parseBoolean(key.name(), raw);
        case BYTES -> parseBytes(raw);
      };
    } catch (NumberFormatException e) {
      String what = key.type() == Type.BYTES ? "a byte size (e.g. 8388608 or 8MiB)" : "an integer";
      throw new ConfigException(key.name() + ": \"" + raw + "\" is not " + what, e);
    } catch (ArithmeticException e) { // a byte size times its unit past a long
      throw new ConfigException(key.name() + ": \"" + raw + "\" is too large a byte size", e);
    }
  }

  private static Boolean parseBoolean(String name, String raw) {
    return switch (raw.toLowerCase(Locale.ROOT)) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> throw new ConfigException(name + ": \"" + raw + "\" is not one of [true, false]");
    };
  }

  private static Long parseBytes(String raw) {
    String s = raw.replace("_", "").replace(" ", "");
    String lower = s.toLowerCase(Locale.ROOT);
    long unit = 1;
    for (Map.Entry<String, Long> suffix : BYTE_SUFFIXES.entrySet()) {
      if (lower.endsWith(suffix.getKey())) {
        unit = suffix.getValue();
        s = s.substring(0, s.length() - suffix.getKey().length());
        break;
      }
    }
    return Math.multiplyExact(Long.parseLong(s), unit);
  }

  // Longest suffixes first so "mib" is not read as "b".
  private static final Map<String, Long> BYTE_SUFFIXES = orderedSuffixes();

  private static Map<String, Long> orderedSuffixes() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("kib", 1L << 10);
    m.put("mib", 1L << 20);
    m.put("gib", 1L << 30);
    m.put("b", 1L);
    return m;
  }

  /** Inclusive numeric range, e.g. {@code batch.max.size: 0 is out of range [1, 1024]}. */
  public static Validator range(long min, long max) {
    return (key, value) -> {
      long v = ((Number) value).longValue();
      if (v < min || v > max) {
        throw new ConfigException(key + ": " + v + " is out of range [" + min + ", " + max + "]");
      }
    };
  }

  /** One of a fixed set of lowercase strings, ignoring case, e.g. {@code inference.provider}. */
  public static Validator oneOf(List<String> allowed) {
    List<String> copy = List.copyOf(allowed);
    return (key, value) -> {
      if (!copy.contains(String.valueOf(value).toLowerCase(Locale.ROOT))) {
        throw new ConfigException(key + ": \"" + value + "\" is not one of " + copy);
      }
    };
  }
}
