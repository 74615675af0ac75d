using ScoreCam.Onnx.Core;
namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The pointing game (Zhang et al., "Top-down neural attention by excitation backprop", used in the Score-CAM paper's
/// section 5.2.2 as the metric it extends): a hit when the map's maximum falls in the target's box enlarged by a
/// tolerance (15 pixels, as Zhang et al.). The maximum is the first one in row-major order; a map that is constant
/// (no maximum to point at, e.g. all zeros) is a miss.
/// </summary>
public static class PointingGame
{
    public const int DefaultTolerance = 15;

    public static bool Hit(SaliencyMap map, BoundingBox box, int tolerance = DefaultTolerance)
    {
        if (tolerance < 0) throw new ArgumentOutOfRangeException(nameof(tolerance), "The tolerance must not be negative.");
        (int x, int y)? point = Maximum(map);
        return point is { } p && box.Enlarge(tolerance).Contains(p.x, p.y);
    }

    /// <summary>A hit when the maximum falls in any of <paramref name="boxes"/> (each enlarged by the tolerance).</summary>
    public static bool Hit(SaliencyMap map, IReadOnlyList<BoundingBox> boxes, int tolerance = DefaultTolerance)
    {
        if (tolerance < 0) throw new ArgumentOutOfRangeException(nameof(tolerance), "The tolerance must not be negative.");
        return Maximum(map) is { } p && boxes.Any(b => b.Enlarge(tolerance).Contains(p.X, p.Y));
    }

    /// <summary>The position of the map's first maximum in row-major order, or null when the map is constant.</summary>
    public static (int X, int Y)? Maximum(SaliencyMap map)
    {
        ReadOnlySpan<float> v = map.Values;
        if (v.Length == 0) return null;
        float max = System.Numerics.Tensors.TensorPrimitives.Max(v), min = System.Numerics.Tensors.TensorPrimitives.Min(v);
        if (!(max > min)) return null;
        int i = v.IndexOf(max);
        return (i % map.Width, i / map.Width);
    }
}
