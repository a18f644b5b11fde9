package dev.gapstream.publish;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.gapstream.GapstreamException;

/** The predictions topic's wire format: UTF-8 JSON. Thread-safe. */
public final class PredictionJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final ObjectWriter WRITER = MAPPER.writerFor(Prediction.class);
  private static final ObjectReader READER = MAPPER.readerFor(Prediction.class);

  private PredictionJson() {}

  public static byte[] toBytes(Prediction prediction) {
    try {
      return WRITER.writeValueAsBytes(prediction);
    } catch (JsonProcessingException e) {
      throw new GapstreamException("cannot serialise prediction " + prediction.frameId(), e);
    }
  }

  public static Prediction fromBytes(byte[] json) {
    try {
      return READER.readValue(json);
    } catch (java.io.IOException e) {
      throw new GapstreamException("not a prediction: " + e.getMessage(), e);
    }
  }
}
