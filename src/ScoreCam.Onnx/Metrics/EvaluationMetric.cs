using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The metrics of an evaluation run, by the names its results use, and their computation for one explanation. Per
/// explanation: <c>energy_pointing_game</c> (share in [0, 1], section 5.2.2), <c>pointing_game</c> (1 hit, 0 miss),
/// <c>average_drop</c> (max(0, Y − O) / Y × 100, whose mean over images is Average Drop, section 5.3),
/// <c>increase_in_confidence</c> (100 when O &gt; Y else 0, whose mean is Increase in Confidence in percent),
/// <c>deletion_auc</c> and <c>insertion_auc</c> (Petsiuk et al.). All scores are softmax probabilities. Optional,
/// for canvases with several objects: <c>energy_other_classes</c>, the energy share in the boxes of the image's other
/// annotated classes (class discrimination; NaN when the image has no other class), and <c>energy_weakest_box</c>,
/// the smallest energy share of any one of the class's boxes (multiple occurrences: both objects found; equal to
/// <c>energy_pointing_game</c> for a single box). Optional, asked for by name: <c>road_morf</c> and <c>road_lerf</c>
/// (<see cref="Road"/>: the mean class probability with the most / least relevant 10%…90% of the pixels imputed).
/// </summary>
public static class EvaluationMetric
{
    public const string EnergyPointingGame = "energy_pointing_game", PointingGame = "pointing_game", AverageDrop = "average_drop",
        IncreaseInConfidence = "increase_in_confidence", DeletionAuc = "deletion_auc", InsertionAuc = "insertion_auc",
        OtherClassesEnergy = "energy_other_classes", WeakestBoxEnergy = "energy_weakest_box",
        RoadMostRelevantFirst = "road_morf", RoadLeastRelevantFirst = "road_lerf";

    public static IReadOnlyList<string> All { get; } =
        new[] { EnergyPointingGame, PointingGame, AverageDrop, IncreaseInConfidence, DeletionAuc, InsertionAuc };

    /// <summary>The default metrics (<see cref="All"/>) and the optional ones.</summary>
    public static IReadOnlyList<string> Known { get; } =
        All.Append(OtherClassesEnergy).Append(WeakestBoxEnergy).Append(RoadMostRelevantFirst).Append(RoadLeastRelevantFirst).ToArray();

    /// <summary>
    /// Computes <paramref name="metrics"/> for one explanation of <paramref name="classIndex"/> on <paramref name="image"/>:
    /// <paramref name="heatmap"/> is the explanation's heatmap (input size, [0, 1]) and <paramref name="boxes"/> the
    /// class's boxes in input pixels, <paramref name="otherBoxes"/> those of the image's other classes.
    /// </summary>
    public static Dictionary<string, double> Compute(IBatchRunner runner, ImageTensor image, SaliencyMap heatmap, int classIndex,
        IReadOnlyList<BoundingBox> boxes, IEnumerable<string> metrics, CausalMetricOptions? causal = null,
        IReadOnlyList<BoundingBox>? otherBoxes = null, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, double>();
        ConfidenceChange? change = null;
        (double MostRelevantFirst, double LeastRelevantFirst)? road = null;
        foreach (string metric in metrics)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result[metric] = metric switch
            {
                EnergyPointingGame => Metrics.EnergyPointingGame.Score(heatmap, boxes),
                PointingGame => Metrics.PointingGame.Hit(heatmap, boxes) ? 1 : 0,
                AverageDrop => (change ??= ConfidenceChange.Measure(runner, image, heatmap, classIndex)).Drop,
                IncreaseInConfidence => (change ??= ConfidenceChange.Measure(runner, image, heatmap, classIndex)).Increased ? 100 : 0,
                DeletionAuc => new CausalMetric(CausalMetricKind.Deletion, causal).Measure(runner, image, heatmap, classIndex, cancellationToken).Auc,
                InsertionAuc => new CausalMetric(CausalMetricKind.Insertion, causal).Measure(runner, image, heatmap, classIndex, cancellationToken).Auc,
                RoadMostRelevantFirst => (road ??= Road.Measure(runner, image, heatmap, classIndex)).MostRelevantFirst,
                RoadLeastRelevantFirst => (road ??= Road.Measure(runner, image, heatmap, classIndex)).LeastRelevantFirst,
                WeakestBoxEnergy => boxes.Count == 0 ? double.NaN : boxes.Min(b => Metrics.EnergyPointingGame.Score(heatmap, b)),
                OtherClassesEnergy => otherBoxes is { Count: > 0 } ? Metrics.EnergyPointingGame.Score(heatmap, otherBoxes) : double.NaN,
                _ => throw new ScoreCamException($"Unknown metric '{metric}'; the metrics are {string.Join(", ", Known)}."),
            };
        }
        return result;
    }
}
