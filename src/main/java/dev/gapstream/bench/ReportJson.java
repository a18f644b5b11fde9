package dev.gapstream.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;

/**
 * A report as one JSON object. A figure that was not measured (NaN: a stage that did not run, a
 * ratio without its 80% latency run) is {@code null}, not Jackson's default, the string "NaN",
 * which a consumer expecting a number would trip over.
 */
public final class ReportJson {

  private static final ObjectMapper MAPPER = mapper();

  private ReportJson() {}

  public static String format(Object report) {
    try {
      return MAPPER.writeValueAsString(report);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the report as JSON: " + e.getMessage(), e);
    }
  }

  private static ObjectMapper mapper() {
    FiniteOrNull finiteOrNull = new FiniteOrNull();
    SimpleModule module = new SimpleModule("finite-or-null");
    module.addSerializer(Double.class, finiteOrNull);
    module.addSerializer(Double.TYPE, finiteOrNull);
    return new ObjectMapper().registerModule(module);
  }

  private static final class FiniteOrNull extends StdSerializer<Double> {
    private static final long serialVersionUID = 1L;

    FiniteOrNull() {
      super(Double.class);
    }

    @Override
    public void serialize(Double value, JsonGenerator out, SerializerProvider provider) throws IOException {
      if (Double.isFinite(value)) {
        out.writeNumber(value);
      } else {
        out.writeNull();
      }
    }
  }
}
