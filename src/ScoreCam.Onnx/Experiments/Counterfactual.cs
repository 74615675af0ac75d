using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// Prediction reasoning (paper section 5.5.2): why the model predicts the target class rather than a reference
/// class. Both classes' maps come from one explanation call, so Score-CAM runs its masked passes once for the two.
/// </summary>
public static class Counterfactual
{
    /// <summary>
    /// Explains <paramref name="target"/> (default: the top prediction) against <paramref name="reference"/>
    /// (default: the most probable other class, the second most probable when the target is the prediction) with
    /// <paramref name="method"/> (default: the explainer's). The check masks the input, as Score-CAM masks it
    /// (eq. 2), by 1 − the display heatmap of L_CE (upsampled bilinearly, min-max normalized).
    /// </summary>
    public static CounterfactualExplanation Explain(CamExplainer explainer, ImageTensor image, ExplanationTarget? target = null,
        ExplanationTarget? reference = null, IExplanationMethod? method = null, IProgress<ExplanationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        PreparedModel model = explainer.Model;
        if (model.OutputKind == ModelOutputKind.SingleLogit || model.OutputSize < 2)
            throw new ScoreCamException("A counterfactual explanation compares two classes; this model has a single output.");
        float[] scores = explainer.Embed(image);
        float[] before = new float[scores.Length];
        ResolvedTarget.Probabilities(scores, model.OutputKind, before);
        int t = ClassOf(target ?? ExplanationTarget.TopPrediction, explainer, scores, nameof(target));
        int r = reference is null ? MostProbableOtherThan(t, before) : ClassOf(reference, explainer, scores, nameof(reference));
        if (r == t) throw new ScoreCamException($"The target and the reference are the same class ({t}); name two different classes.");

        IReadOnlyList<Explanation> maps = explainer.ExplainTargets(image, new[] { ExplanationTarget.Class(t), ExplanationTarget.Class(r) },
            method, progress, cancellationToken);
        SaliencyMap lce = Difference(maps[0].Map, maps[1].Map);
        SaliencyMap heatmap = DisplayHeatmap.From(lce, image.Width, image.Height);

        var keep = new float[heatmap.Values.Length];
        for (int i = 0; i < keep.Length; i++) keep[i] = 1f - heatmap.Values[i];
        var masked = new float[image.Data.Length];
        MapKernels.ApplyMask(image.Data, keep, masked);
        var maskedInput = new ImageTensor(masked, image.Channels, image.Height, image.Width, image.SourceRegion);
        float[] after = explainer.Probabilities(maskedInput);

        Explanation explanation = maps[0] with
        {
            Map = lce,
            Heatmap = heatmap,
            ChannelWeights = Array.Empty<float>(),
            ForwardPasses = maps[0].ForwardPasses + 2, // the first pass that chose the classes, and the check's
            Elapsed = clock.Elapsed,
        };
        return new CounterfactualExplanation(explanation, maps[0], maps[1], maskedInput,
            new CounterfactualCheck(before[t], before[r], after[t], after[r]));
    }

    /// <summary>L_CE = ReLU(L^target − L^reference) (eq. 7), on the methods' maps before display normalization.</summary>
    public static SaliencyMap Difference(SaliencyMap target, SaliencyMap reference)
    {
        if (target.Width != reference.Width || target.Height != reference.Height)
            throw new ArgumentException($"The maps differ in size: {target.Width}x{target.Height} and {reference.Width}x{reference.Height}.", nameof(reference));
        var values = new float[target.Values.Length];
        System.Numerics.Tensors.TensorPrimitives.Subtract(target.Values, reference.Values, values);
        MapKernels.Relu(values);
        return new SaliencyMap(target.Width, target.Height, values);
    }

    private static int ClassOf(ExplanationTarget target, CamExplainer explainer, float[] scores, string parameter)
    {
        ResolvedTarget resolved = target.Resolve(new TargetModel(explainer.Model, explainer.Labels, scores));
        return resolved.ClassIndex
            ?? throw new ArgumentException($"A counterfactual explanation compares classes; target '{resolved.Name}' is not one (custom targets, similarities and detections have no class probability).", parameter);
    }

    private static int MostProbableOtherThan(int target, float[] probabilities)
    {
        int best = target == 0 ? 1 : 0;
        for (int c = 0; c < probabilities.Length; c++)
            if (c != target && probabilities[c] > probabilities[best]) best = c;
        return best;
    }
}
