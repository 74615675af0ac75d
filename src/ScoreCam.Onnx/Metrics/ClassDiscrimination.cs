using ScoreCam.Onnx.Core;
namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// Class discrimination on a canvas holding two classes (Score-CAM paper, section 5.1 / Fig. 6, measured with the
/// energy-based pointing game of section 5.2.2): when explaining each class, the share of the map's energy in that
/// class's own box and in the other class's box. A discriminative method puts its energy in the own box.
/// </summary>
public static class ClassDiscrimination
{
    /// <summary>
    /// For each class i (its heatmap <paramref name="heatmaps"/>[i] and box <paramref name="boxes"/>[i]) the energy
    /// share in its own box and in the boxes of the other classes.
    /// </summary>
    public static IReadOnlyList<ClassDiscriminationScore> Score(IReadOnlyList<SaliencyMap> heatmaps, IReadOnlyList<BoundingBox> boxes)
    {
        if (heatmaps.Count != boxes.Count) throw new ArgumentException("Give one heatmap per box.", nameof(heatmaps));
        var result = new ClassDiscriminationScore[boxes.Count];
        for (int i = 0; i < boxes.Count; i++)
        {
            double others = 0;
            for (int j = 0; j < boxes.Count; j++)
                if (j != i) others += EnergyPointingGame.Score(heatmaps[i], boxes[j]);
            result[i] = new ClassDiscriminationScore(EnergyPointingGame.Score(heatmaps[i], boxes[i]), others);
        }
        return result;
    }
}

/// <summary>Energy share in the explained class's own box and in the other classes' boxes (overlaps counted in both).</summary>
public readonly record struct ClassDiscriminationScore(double OwnBox, double OtherBoxes);
