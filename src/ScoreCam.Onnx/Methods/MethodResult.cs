using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// What a method computed for one target. <see cref="Map"/> is the method's own map: a CAM method's
/// ReLU(Σ_k w_k A_k) at the target layer's resolution (eq. 5), or a pixel-space map at the input's resolution; the
/// explainer upsamples and min-max normalizes it for display. Channel weights for CAM methods; the signed C×H×W
/// attribution for pixel-space methods; <see cref="Extras"/> for a method's own diagnostics (for example Integrated
/// Gradients' completeness error).
/// </summary>
public sealed record MethodResult(SaliencyMap Map, float[]? ChannelWeights = null, Attribution? Attribution = null,
    IReadOnlyDictionary<string, double>? Extras = null);
