using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// Model analysis by convergence (paper section 5.5.1, Fig. 14): the same pictures explained for their true class by
/// an early checkpoint and by the final model, with the energy-based pointing game on the true box and the mean heat
/// outside it (the map's noise) for each. The two models must take the same input size and classes.
/// </summary>
public static class Convergence
{
    public static List<ConvergencePoint> Compare(CamExplainer early, CamExplainer final, AnnotatedSet set, IReadOnlyList<AnnotatedImage> images,
        IExplanationMethod method, Action<int, AnnotatedImage>? imageStarted = null, CancellationToken cancellationToken = default)
    {
        if (early.Model.OutputSize != final.Model.OutputSize)
            throw new ArgumentException($"The checkpoints have {early.Model.OutputSize} and {final.Model.OutputSize} classes; compare checkpoints of one model.", nameof(early));
        var points = new List<ConvergencePoint>();
        for (int i = 0; i < images.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            imageStarted?.Invoke(i, images[i]);
            AnnotatedInput a = AnnotatedInput.Load(early, set, images[i]), b = AnnotatedInput.Load(final, set, images[i]);
            Explanation e = early.Explain(a.Input, ExplanationTarget.Class(a.TrueClass), method, cancellationToken: cancellationToken);
            Explanation f = final.Explain(b.Input, ExplanationTarget.Class(b.TrueClass), method, cancellationToken: cancellationToken);
            points.Add(new ConvergencePoint(b, e, f,
                EnergyPointingGame.Score(e.Heatmap, a.Boxes), EnergyPointingGame.Score(f.Heatmap, b.Boxes),
                HeatOutsideBox.Mean(e.Heatmap, a.Boxes), HeatOutsideBox.Mean(f.Heatmap, b.Boxes)));
        }
        return points;
    }
}

/// <summary>
/// One picture of <see cref="Convergence.Compare"/>: both explanations of the true class (their predictions say
/// whether each model was right), their energy in the true box and their mean heat outside it.
/// </summary>
public sealed record ConvergencePoint(AnnotatedInput Item, Explanation Early, Explanation Final, double EarlyEnergy, double FinalEnergy,
    double EarlyOutside, double FinalOutside);
