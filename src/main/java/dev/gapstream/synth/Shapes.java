package dev.gapstream.synth;

import java.awt.Shape;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;

/**
 * The object outlines, one per label, centred on the origin with a nominal radius of 1. Their areas
 * at that radius differ by up to 2x (the star's 1.6 to the circle's 3.1), less than the 4x the
 * frames' random scale spans ({@link SyntheticFrames#MIN_FRACTION} to {@link
 * SyntheticFrames#MAX_FRACTION} of the shorter side): every class's sizes overlap every other's, so
 * size alone does not tell one class from another.
 */
final class Shapes {

  private Shapes() {}

  static Shape of(int label) {
    return switch (label) {
      case 0 -> new Ellipse2D.Double(-1, -1, 2, 2);
      case 1 -> new Rectangle2D.Double(-0.85, -0.85, 1.7, 1.7);
      case 2 -> regularPolygon(3, 1.15, 0);
      case 3 -> star(5, 1.15, 0.48);
      case 4 -> cross(1.0, 0.32);
      case 5 -> ring(1.0, 0.55);
      default -> throw new IllegalArgumentException("no shape for label " + label);
    };
  }

  private static Shape regularPolygon(int corners, double radius, double innerRadius) {
    return star(corners, radius, innerRadius);
  }

  /** A star with {@code points} tips; an inner radius of 0 gives a plain regular polygon. */
  private static Shape star(int points, double outer, double inner) {
    Path2D.Double path = new Path2D.Double();
    int vertices = inner > 0 ? 2 * points : points;
    for (int i = 0; i < vertices; i++) {
      double r = inner > 0 && i % 2 == 1 ? inner : outer;
      double a = -Math.PI / 2 + 2 * Math.PI * i / vertices;
      if (i == 0) {
        path.moveTo(r * Math.cos(a), r * Math.sin(a));
      } else {
        path.lineTo(r * Math.cos(a), r * Math.sin(a));
      }
    }
    path.closePath();
    return path;
  }

  private static Shape cross(double halfLength, double halfWidth) {
    Area a =
        new Area(new Rectangle2D.Double(-halfLength, -halfWidth, 2 * halfLength, 2 * halfWidth));
    a.add(new Area(new Rectangle2D.Double(-halfWidth, -halfLength, 2 * halfWidth, 2 * halfLength)));
    return a;
  }

  private static Shape ring(double outer, double inner) {
    Area a = new Area(new Ellipse2D.Double(-outer, -outer, 2 * outer, 2 * outer));
    a.subtract(new Area(new Ellipse2D.Double(-inner, -inner, 2 * inner, 2 * inner)));
    return a;
  }
}
