using ScoreCam.Onnx.Detectors;

namespace ScoreCam.Onnx.Output;

/// <summary>A box to outline on a picture (input pixels) and its caption, such as a detection and its class.</summary>
public sealed record LabelledBox(DetectionBox Box, string Caption);
