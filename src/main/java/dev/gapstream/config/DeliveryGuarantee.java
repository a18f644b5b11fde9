package dev.gapstream.config;

import java.util.Arrays;
import java.util.List;

/**
 * What gapstream promises about each consumed frame. Configured as {@code delivery.guarantee} with
 * the lowercase ids below.
 */
public enum DeliveryGuarantee {
  /** Offsets are committed after publishing; a crash may publish a prediction twice. */
  AT_LEAST_ONCE("at-least-once"),
  /** Predictions and offsets are committed in one Kafka transaction. */
  EXACTLY_ONCE("exactly-once");

  private final String id;

  DeliveryGuarantee(String id) {
    this.id = id;
  }

  /** The configuration value, e.g. {@code at-least-once}. */
  public String id() {
    return id;
  }

  /** All configuration values, in declaration order. */
  public static List<String> ids() {
    return Arrays.stream(values()).map(DeliveryGuarantee::id).toList();
  }

  /** The constant for a configuration value; the caller has validated it against {@link #ids()}. */
  public static DeliveryGuarantee fromId(String id) {
    for (DeliveryGuarantee g : values()) {
      if (g.id.equals(id)) {
        return g;
      }
    }
    throw new ConfigException("delivery.guarantee: \"" + id + "\" is not one of " + ids());
  }
}
