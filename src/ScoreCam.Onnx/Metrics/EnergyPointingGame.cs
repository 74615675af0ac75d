using ScoreCam.Onnx.Core;
namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The energy-based pointing game (Score-CAM paper, section 5.2.2): the share of the saliency map's energy that falls
/// inside the target's bounding box, <c>Σ_{(i,j)∈bbox} L / Σ_{(i,j)} L</c>. It is measured on the map as the method
/// returns it upsampled to the input size (<see cref="Explanation.Heatmap"/>), with the box in input pixels
/// (see <see cref="BoundingBox.ToInput(int, int, int, int)"/>). Negative values count as no energy; a map with no
/// energy scores 0.
/// </summary>
public static class EnergyPointingGame
{
    /// <summary>The share of the energy inside any of <paramref name="boxes"/> (several objects of the target class).</summary>
    public static double Score(SaliencyMap map, IReadOnlyList<BoundingBox> boxes)
    {
        double inside = 0, total = 0;
        for (int y = 0; y < map.Height; y++)
        {
            ReadOnlySpan<float> row = map.Values.AsSpan(y * map.Width, map.Width);
            for (int x = 0; x < row.Length; x++)
            {
                float v = row[x];
                if (!(v > 0f)) continue;
                total += v;
                for (int b = 0; b < boxes.Count; b++)
                    if (boxes[b].Contains(x, y)) { inside += v; break; }
            }
        }
        return total > 0 ? inside / total : 0;
    }

    /// <summary>
    /// The share of the energy on the marked pixels (<paramref name="inside"/>, row by row, the map's size): an object
    /// given by its pixels rather than its box.
    /// </summary>
    public static double Score(SaliencyMap map, IReadOnlyList<bool> inside)
    {
        if (inside.Count != map.Values.Length)
            throw new ArgumentException($"The pixel mask has {inside.Count} values; the map has {map.Width}x{map.Height}.", nameof(inside));
        double within = 0, total = 0;
        for (int p = 0; p < inside.Count; p++)
        {
            float v = map.Values[p];
            if (!(v > 0f)) continue;
            total += v;
            if (inside[p]) within += v;
        }
        return total > 0 ? within / total : 0;
    }

    /// <summary>The share of the energy inside <paramref name="box"/>.</summary>
    public static double Score(SaliencyMap map, BoundingBox box) => Score(map, new[] { box });
}
