package dev.gapstream.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops Micrometer's warning that a Vert.x gauge "has been already registered": Vert.x's metrics
 * register their gauges again by design (each registration finds the same counter), and since
 * Micrometer 1.13.9 the first of them, at the management server's first connection, logged a
 * warning no operator could act on (vertx-micrometer-metrics#259, micrometer#6931). The same
 * warning about any other meter, one of gapstream's own, is still logged.
 */
public final class VertxGaugeNoise extends TurboFilter {
  static final String LOGGER = "io.micrometer.core.instrument.MeterRegistry";

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    return level == Level.WARN
            && format != null
            && logger.getName().equals(LOGGER)
            && format.contains("has been already registered (MeterId{name='vertx.")
        ? FilterReply.DENY
        : FilterReply.NEUTRAL;
  }
}
