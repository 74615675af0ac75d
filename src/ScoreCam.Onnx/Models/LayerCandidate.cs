namespace ScoreCam.Onnx.Models;

/// <summary>A spatial feature map in the graph that could serve as the target layer; listed by <c>scorecam layers</c>.</summary>
public sealed record LayerCandidate(string TensorName, string NodeName, string OpType, IReadOnlyList<long> Shape, bool IsAutomaticChoice);
