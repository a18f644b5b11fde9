package dev.gapstream.pipeline;

/** A frame's size in pixels: frames batch together only when their shapes are equal. */
public record Shape(int width, int height) {
  @Override
  public String toString() {
    return width + "x" + height;
  }
}
