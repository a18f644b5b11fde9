package dev.gapstream.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.gapstream.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
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
  private static final YAMLMapper YAML = new YAMLMapper();

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
   * give {@code batch.max.size=16}; lists join with commas; null is the empty string.
   */
  static Map<String, String> yaml(String text, String origin) {
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (IOException e) {
      throw invalidYaml(origin, e);
    }
    Map<String, String> out = new LinkedHashMap<>();
    if (root == null || root.isMissingNode() || root.isNull()) {
      return out;
    }
    if (!root.isObject()) {
      throw new ConfigException(origin + ": the top level must be a mapping of keys to values");
    }
    flatten("", root, out, origin);
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
    return new ConfigException(
        "invalid YAML in " + origin
            + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()));
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out, String src) {
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> field : node.properties()) {
        String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
        flatten(key, field.getValue(), out, src);
      }
      return;
    }
    if (out.put(prefix, scalar(node)) != null) {
      throw new ConfigException(prefix + ": given more than once in " + src);
    }
  }

  private static String scalar(JsonNode node) {
    if (node.isNull()) {
      return "";
    }
    if (node.isArray()) {
      return StreamSupport.stream(node.spliterator(), false)
          .map(ConfigSources::scalar)
          .collect(Collectors.joining(","));
    }
    return node.asText();
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
