namespace ScoreCam.Onnx.Detectors;

/// <summary>One detection: proposal <paramref name="Proposal"/> of the output, its box, class and confidence.</summary>
public sealed record Detection(int Proposal, DetectionBox Box, int ClassIndex, float Confidence);
