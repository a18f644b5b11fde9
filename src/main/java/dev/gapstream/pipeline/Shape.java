package dev.gapstream.pipeline;

/** A frame's size in pixels: frames batch together only when their shapes are equal. */
public record Shape(int width, int height) {

  public long pixels() {
    return (long) width * height;
  }

  @Override
  public String toString() {
    return width + "x" + height;
  }
}
