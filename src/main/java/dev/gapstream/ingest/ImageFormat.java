package dev.gapstream.ingest;

import java.util.Locale;

/** The frame encodings gapstream reads, found from the content type or the data's magic bytes. */
public enum ImageFormat {
  JPEG("jpeg"),
  PNG("png"),
  BMP("bmp"),
  GIF("gif"),
  /** Uncompressed 8-bit RGB, interleaved; needs {@code width} and {@code height} headers. */
  RAW_RGB(null);

  public static final String RAW_RGB_CONTENT_TYPE = "image/x-raw-rgb";

  private final String imageIoName;

  ImageFormat(String imageIoName) {
    this.imageIoName = imageIoName;
  }

  /** The {@code content-type} header value that names this format. */
  public String contentType() {
    return this == RAW_RGB ? RAW_RGB_CONTENT_TYPE : "image/" + imageIoName;
  }

  /** The ImageIO format name; null for raw pixels. */
  String imageIoName() {
    return imageIoName;
  }

  /**
   * The format a {@code content-type} header names, or null for a type gapstream does not read.
   * Parameters ({@code ; charset=...}) are ignored.
   */
  public static ImageFormat fromContentType(String contentType) {
    String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return switch (type) {
      case "image/jpeg", "image/jpg", "image/pjpeg" -> JPEG;
      case "image/png" -> PNG;
      case "image/bmp", "image/x-bmp", "image/x-ms-bmp" -> BMP;
      case "image/gif" -> GIF;
      case RAW_RGB_CONTENT_TYPE -> RAW_RGB;
      default -> null;
    };
  }

  /** The format the data's first bytes announce, or null when they match none. */
  public static ImageFormat sniff(byte[] data) {
    if (data.length >= 3 && (data[0] & 0xff) == 0xff && (data[1] & 0xff) == 0xd8
        && (data[2] & 0xff) == 0xff) {
      return JPEG;
    }
    if (data.length >= 8 && (data[0] & 0xff) == 0x89 && data[1] == 'P' && data[2] == 'N'
        && data[3] == 'G') {
      return PNG;
    }
    if (data.length >= 6 && data[0] == 'G' && data[1] == 'I' && data[2] == 'F' && data[3] == '8') {
      return GIF;
    }
    if (data.length >= 26 && data[0] == 'B' && data[1] == 'M') {
      return BMP;
    }
    return null;
  }
}
