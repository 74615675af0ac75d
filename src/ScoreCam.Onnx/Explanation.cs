using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx;

/// <summary>The model's own answer for the unmasked input: its top class, the class's label ("class N" when the model has no labels) and probability.</summary>
public sealed record Prediction(int Index, string Label, float Probability)
{
    /// <summary>Class <paramref name="index"/> with its label from <paramref name="labels"/>, "class N" when there is none.</summary>
    public static Prediction Of(int index, IReadOnlyList<string>? labels, float probability) =>
        new(index, labels is not null && index < labels.Count ? labels[index] : $"class {index}", probability);
}

/// <summary>What was explained: a class (index, label) or a custom scalar, and its score on the unmasked input.</summary>
public sealed record TargetInfo(string Name, int? Index, string? Label, float Score);

/// <summary>
/// One explanation: the method's map (<see cref="Map"/>: for CAM methods at the target layer's resolution, after
/// ReLU, before any normalization, paper eq. 5; for pixel-space methods at the input's resolution), the same map
/// upsampled to the input size and min-max normalized to [0, 1] for display (<see cref="Heatmap"/>; all zeros when
/// the map is constant), the channel weights (CAM methods; empty otherwise), the signed C×H×W
/// <see cref="Attribution"/> of pixel-space methods, a method's own diagnostics (<see cref="Extras"/>), and what was
/// predicted and explained. <see cref="ForwardPasses"/> counts every pass, the unmasked one and gradient passes
/// included; <see cref="InferenceTime"/> is the part of <see cref="Elapsed"/> spent inside ONNX Runtime.
/// <see cref="Warnings"/> says what is wrong with a result that shows nothing (a constant map) and what to try.
/// </summary>
public sealed record Explanation(
    string Method,
    TargetInfo Target,
    Prediction Prediction,
    SaliencyMap Map,
    SaliencyMap Heatmap,
    float[] ChannelWeights,
    TargetLayer Layer,
    int ForwardPasses,
    int SkippedChannels,
    TimeSpan Elapsed,
    TimeSpan InferenceTime,
    Attribution? Attribution = null,
    IReadOnlyDictionary<string, double>? Extras = null)
{
    /// <summary>Warnings about this result (also logged): a constant map, its likely cause and what to try; empty when there is none.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
}
