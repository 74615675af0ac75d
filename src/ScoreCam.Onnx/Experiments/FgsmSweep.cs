using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// The paper's adversarial experiments (section 5.4): each picture of an annotated set is attacked with FGSM against
/// its true class at every ε, and the true class is explained on the adversarial input by every method. The points
/// feed <see cref="RobustnessSweep"/> (where the map's peak and energy go, section 5.4.1) and
/// <see cref="WeightStability"/> (how the channel weights move, section 5.4.2).
/// </summary>
public static class FgsmSweep
{
    /// <summary>
    /// Runs the sweep. <paramref name="epsilons"/> must start with 0 (the clean input, which every other ε is measured
    /// against); <paramref name="imageStarted"/> is called before each picture with its index.
    /// </summary>
    public static List<SweepPoint> Run(CamExplainer explainer, AnnotatedSet set, IReadOnlyList<AnnotatedImage> images, IReadOnlyList<float> epsilons,
        IReadOnlyList<IExplanationMethod> methods, Action<int, AnnotatedImage>? imageStarted = null, CancellationToken cancellationToken = default)
    {
        if (epsilons.Count == 0 || epsilons[0] != 0)
            throw new ArgumentException("The sweep measures every ε against the clean input: the first ε must be 0.", nameof(epsilons));
        if (epsilons.Any(e => !float.IsFinite(e) || e < 0))
            throw new ArgumentOutOfRangeException(nameof(epsilons), "Every ε must be a non-negative number.");
        if (methods.Count == 0) throw new ArgumentException("Name at least one method.", nameof(methods));
        var points = new List<SweepPoint>();
        for (int i = 0; i < images.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            imageStarted?.Invoke(i, images[i]);
            AnnotatedInput item = AnnotatedInput.Load(explainer, set, images[i]);
            var clean = new Dictionary<string, Explanation>();
            foreach (float epsilon in epsilons)
            {
                AdversarialExample? attack = epsilon > 0 ? Fgsm.Attack(explainer, item.Input, epsilon, ExplanationTarget.Class(item.TrueClass)) : null;
                ImageTensor input = attack?.Input ?? item.Input;
                float[] probabilities = attack is null ? explainer.Probabilities(item.Input) : Array.Empty<float>();
                int predicted = attack?.After.Index ?? System.Numerics.Tensors.TensorPrimitives.IndexOfMax(probabilities);
                float trueProbability = attack?.TargetAfter ?? probabilities[item.TrueClass];
                foreach (IExplanationMethod method in methods)
                {
                    Explanation e = explainer.Explain(input, ExplanationTarget.Class(item.TrueClass), method, cancellationToken: cancellationToken);
                    if (epsilon == 0) clean[method.Name] = e;
                    Explanation reference = clean[method.Name];
                    points.Add(new SweepPoint(item, epsilon, method.Name, input, predicted, trueProbability, e,
                        PeakShift(reference.Heatmap, e.Heatmap), EnergyPointingGame.Score(e.Heatmap, item.Boxes), reference.ChannelWeights));
                }
            }
        }
        return points;
    }

    /// <summary>The distance in input pixels between the maxima of two heatmaps (the first maximum in row order).</summary>
    public static double PeakShift(SaliencyMap clean, SaliencyMap attacked)
    {
        var (cx, cy) = Peak(clean);
        var (ax, ay) = Peak(attacked);
        return Math.Sqrt((double)(cx - ax) * (cx - ax) + (double)(cy - ay) * (cy - ay));
    }

    private static (int X, int Y) Peak(SaliencyMap map)
    {
        int best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(map.Values);
        return (best % map.Width, best / map.Width);
    }
}
