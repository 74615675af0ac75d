namespace ScoreCam.Onnx.Models;

/// <summary>
/// The layer whose activation maps Score-CAM turns into masks (the paper's "last convolutional layer", or a
/// transformer's normalised tokens), identified by the ONNX tensor it outputs, with its K maps of h×w at the model's
/// input size: channels K, height h, width w, however the tensor lays them out (<see cref="Layout"/>).
/// </summary>
public sealed record TargetLayer(string TensorName, string? NodeName, string? OpType, int Channels, int Height, int Width)
{
    /// <summary>How the tensor holds the maps; every method sees them as K×h×w.</summary>
    public LayerLayout Layout { get; init; } = LayerLayout.ChannelsFirst;

    /// <summary>Tokens before the patch grid that no map shows (ViT's class token, DeiT's distillation token); 0 for maps.</summary>
    public int PrefixTokens { get; init; }

    /// <summary>The prepared graph's tensor holding the maps as N×K×h×w: the layer's own, or its rearrangement.</summary>
    internal string MapsTensor => Layout == LayerLayout.ChannelsFirst ? TensorName : TensorName + ActivationLayout.MapsSuffix;

    public override string ToString() => Layout switch
    {
        LayerLayout.Tokens => $"{TensorName} [{PrefixTokens}+{Height}x{Width} tokens of {Channels}]",
        LayerLayout.ChannelsLast => $"{TensorName} [{Height}x{Width}x{Channels}, channels last]",
        _ => $"{TensorName} [{Channels}x{Height}x{Width}]",
    };
}
