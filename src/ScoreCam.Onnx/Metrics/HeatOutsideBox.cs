using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The mean of a display heatmap (values in [0, 1]) over the pixels outside every box: the "noise" of a map around
/// the object (paper section 5.5.1 compares how it falls as a model converges). 0 when the boxes cover the map.
/// </summary>
public static class HeatOutsideBox
{
    public static double Mean(SaliencyMap heatmap, IReadOnlyList<BoundingBox> boxes)
    {
        double sum = 0;
        int count = 0;
        for (int y = 0; y < heatmap.Height; y++)
            for (int x = 0; x < heatmap.Width; x++)
            {
                if (boxes.Any(b => b.Contains(x, y))) continue;
                sum += heatmap.Values[y * heatmap.Width + x];
                count++;
            }
        return count > 0 ? sum / count : 0;
    }
}
