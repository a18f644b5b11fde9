package dev.gapstream.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gapstream.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads raw configuration layers into flat dotted keys with string values: a YAML document (nested
 * maps, flat dotted keys, or both) and {@code GAPSTREAM_*} environment variables. Stateless; thread
 * safe.
 */
final class ConfigSources {
  static final String ENV_PREFIX = "GAPSTREAM_";

  /**
   * The suffix of the one variable Kubernetes gives every container for each Service with a cluster
   * address in its namespace (unless the pod sets {@code enableServiceLinks: false}), beside {@code
   * <NAME>_SERVICE_PORT[_<PORT NAME>]} and {@code <NAME>_PORT[_<n>_<PROTO>[_PROTO|_PORT|_ADDR]]}. A
   * Service named {@code gapstream}, or {@code gapstream-} anything, gives a pod variables that
   * look like configuration: {@code GAPSTREAM_PORT=tcp://10.0.0.7:8080}.
   */
  private static final String SERVICE_HOST = "_SERVICE_HOST";
  private static final YAMLFactory YAML =
      YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private ConfigSources() {}

  /** Reads and flattens a YAML file; a missing or malformed file is a {@link ConfigException}. */
  static Map<String, String> yamlFile(Path file) {
    try {
      return yaml(Files.readString(file), "file " + file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file not found: " + file, e);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + FileErrors.why(e), e);
    }
  }

  /**
   * Flattens a YAML document: {@code batch: {max: {size: 16}}} and {@code batch.max.size: 16} both
   * give {@code batch.max.size=16}; lists join with commas; null is the empty string. Values are
   * read as written, never typed by YAML: {@code group.id: 0123} stays {@code 0123} (YAML 1.1 reads
   * it as octal 83, a different consumer group), {@code on} stays {@code on}, {@code 1.50} stays
   * {@code 1.50}, as in an environment variable or {@code --set}. A key given twice at one level and
   * a second document are refused: YAML keeps the last copy and the first document, and the settings
   * dropped looked applied.
   */
  static Map<String, String> yaml(String text, String origin) {
    Map<String, String> out = new LinkedHashMap<>();
    try (JsonParser parser = YAML.createParser(text)) {
      JsonToken first = parser.nextToken();
      if (first == null || first == JsonToken.VALUE_NULL || first.isScalarValue() && parser.getText().isEmpty()) {
        return out; // an empty document ("---" alone is one empty scalar)
      }
      if (first != JsonToken.START_OBJECT) {
        throw new ConfigException(origin + ": the top level must be a mapping of keys to values");
      }
      mapping("", parser, out, origin);
      if (parser.nextToken() != null) {
        JsonLocation at = parser.currentLocation();
        throw new ConfigException(String.format(
            "%s holds more than one YAML document (settings of another at line %d): only one is read; put every setting in one",
            origin, at.getLineNr()));
      }
    } catch (IOException e) {
      throw invalidYaml(origin, e);
    }
    return out;
  }

  /**
   * A YAML document that does not parse, said by line, column and problem. Not in the parser's
   * words, nor with it as the cause: those quote the lines around the error, and a quoting mistake
   * is likeliest in a value such as {@code sasl.jaas.config} that holds a password.
   */
  private static ConfigException invalidYaml(String origin, IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof MarkedYAMLException m && m.getProblemMark() != null) {
        Mark at = m.getProblemMark();
        String context = m.getContext() == null ? "" : " (" + m.getContext() + ")";
        return new ConfigException(String.format(
            "invalid YAML in %s at line %d, column %d: %s%s",
            origin, at.getLine() + 1, at.getColumn() + 1, m.getProblem(), context));
      }
    }
    JsonLocation at = e instanceof JsonProcessingException j ? j.getLocation() : null;
    String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    if (e instanceof StreamReadException r && r.getOriginalMessage().startsWith("Duplicate field")) {
      // Jackson's words name the key alone: "Duplicate field 'kafka'".
      return new ConfigException("invalid YAML in " + origin + where + ": a key given twice in one mapping ("
          + r.getOriginalMessage().substring("Duplicate field ".length()) + "); YAML would keep the last one only");
    }
    return new ConfigException("invalid YAML in " + origin + where);
  }

  /** The mapping the parser has just opened, up to its end, its keys under {@code prefix}. */
  private static void mapping(String prefix, JsonParser parser, Map<String, String> out, String src)
      throws IOException {
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = prefix.isEmpty() ? parser.currentName() : prefix + "." + parser.currentName();
      JsonToken value = parser.nextToken();
      if (value == JsonToken.START_OBJECT) {
        mapping(key, parser, out, src);
      } else if (out.put(key, value == JsonToken.START_ARRAY ? list(key, parser) : scalar(parser)) != null) {
        throw new ConfigException(key + ": given more than once in " + src);
      }
    }
  }

  /** The list the parser has just opened, its values joined with commas. */
  private static String list(String key, JsonParser parser) throws IOException {
    List<String> values = new ArrayList<>();
    for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
      if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
        throw new ConfigException(key + ": a list of plain values, not of " + (t == JsonToken.START_OBJECT ? "mappings" : "lists"));
      }
      values.add(scalar(parser));
    }
    return String.join(",", values);
  }

  /** A scalar as written (quotes taken off), null as the empty string. */
  private static String scalar(JsonParser parser) throws IOException {
    return parser.currentToken() == JsonToken.VALUE_NULL ? "" : parser.getText();
  }

  /**
   * Maps {@code GAPSTREAM_BATCH_MAX_SIZE} to {@code batch.max.size} (strip the prefix, lowercase,
   * {@code _} to {@code .}); other variables, the launcher's own and {@linkplain #serviceLinks
   * Kubernetes service links} are left out. The value maps each key to the variable it came from,
   * for error messages.
   */
  static Map<String, String> envKeys(Map<String, String> env) {
    List<String> links = serviceLinks(env);
    Map<String, String> keyToVar = new LinkedHashMap<>();
    ours(env).stream()
        .filter(name -> !links.contains(name))
        .forEach(name -> keyToVar.put(envToKey(name), name));
    return keyToVar;
  }

  /**
   * The {@code GAPSTREAM_*} variables that are Kubernetes service links, sorted: those of a Service
   * whose {@code <NAME>_SERVICE_HOST} is set too, so that a misspelt key ending in {@code _PORT} is
   * still refused, and that name no key (a key's own variable, such as {@code GAPSTREAM_HTTP_PORT},
   * counts as the key even when a Service named {@code gapstream-http} set it).
   */
  static List<String> serviceLinks(Map<String, String> env) {
    Set<String> services = env.keySet().stream()
        .filter(name -> name.endsWith(SERVICE_HOST))
        .map(name -> name.substring(0, name.length() - SERVICE_HOST.length()))
        .collect(Collectors.toSet());
    return ours(env).stream()
        .filter(name -> !ConfigKeys.DEF.keys().containsKey(envToKey(name)))
        .filter(name -> services.stream().anyMatch(service -> isLinkOf(name, service)))
        .collect(Collectors.toList());
  }

  private static boolean isLinkOf(String name, String service) {
    return name.equals(service + SERVICE_HOST)
        || name.equals(service + "_SERVICE_PORT")
        || name.startsWith(service + "_SERVICE_PORT_")
        || name.equals(service + "_PORT")
        || name.startsWith(service + "_PORT_");
  }

  private static List<String> ours(Map<String, String> env) {
    return env.keySet().stream()
        .filter(name -> name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length())
        .filter(name -> !ConfigKeys.NON_CONFIG_ENV.contains(name))
        .sorted()
        .collect(Collectors.toList());
  }

  static String envToKey(String name) {
    return name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
  }
}
