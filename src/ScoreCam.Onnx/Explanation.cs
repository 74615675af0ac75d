using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx;

/// <summary>A map of Width × Height values, row-major.</summary>
public sealed record SaliencyMap(int Width, int Height, float[] Values)
{
    public float this[int x, int y] => Values[y * Width + x];
}

/// <summary>The model's own answer for the unmasked input.</summary>
public sealed record Prediction(int Index, string? Label, float Probability);

/// <summary>What was explained: a class (index, label) or a custom scalar, and its score on the unmasked input.</summary>
public sealed record TargetInfo(string Name, int? Index, string? Label, float Score);

/// <summary>
/// One explanation: the class activation map at the target layer's resolution (<see cref="Map"/>, after ReLU,
/// before any normalization: paper eq. 5), the same map upsampled to the input size and min-max normalized to
/// [0, 1] for display (<see cref="Heatmap"/>; all zeros when the map is zero everywhere), the channel weights,
/// and what was predicted and explained. <see cref="InferenceTime"/> is the part of <see cref="Elapsed"/> spent
/// inside ONNX Runtime.
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
    TimeSpan InferenceTime);
