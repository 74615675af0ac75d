namespace ScoreCam.Onnx.Core;

/// <summary>
/// A signed attribution in the input space, C×H×W values in row-major planes (the layout of the model's input): what
/// pixel-space methods (input gradients, Guided Backpropagation, SmoothGrad, Integrated Gradients) compute before
/// any reduction over channels.
/// </summary>
public sealed record Attribution(int Channels, int Height, int Width, float[] Values)
{
    public ReadOnlySpan<float> Plane(int channel) => Values.AsSpan(channel * Height * Width, Height * Width);
}
