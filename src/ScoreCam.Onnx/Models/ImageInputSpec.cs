namespace ScoreCam.Onnx.Models;

/// <summary>The model's image input: name, channel count (3 or 1) and fixed spatial size where the model fixes one.</summary>
public sealed record ImageInputSpec(string Name, int Channels, int? Height, int? Width);
