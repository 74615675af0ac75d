namespace ScoreCam.Onnx.Models;

/// <summary>
/// The layer whose activation maps Score-CAM turns into masks (the paper's "last convolutional layer"), identified
/// by the ONNX tensor it outputs, with its shape (channels K, height h, width w) at the model's input size.
/// </summary>
public sealed record TargetLayer(string TensorName, string? NodeName, string? OpType, int Channels, int Height, int Width)
{
    public override string ToString() => $"{TensorName} [{Channels}x{Height}x{Width}]";
}
