package dev.gapstream.bench;

/**
 * One frame as a producer would send it: encoded bytes and their {@code content-type}. The bytes
 * are shared between the records that reuse the frame and must not be modified.
 */
public record EncodedFrame(byte[] data, String contentType) {}
