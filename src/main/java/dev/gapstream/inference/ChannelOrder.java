package dev.gapstream.inference;

/** Order of the colour planes a model expects in its input tensor. */
public enum ChannelOrder {
  RGB,
  BGR
}
