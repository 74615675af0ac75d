namespace ScoreCam.Onnx.Methods;

/// <summary>Progress of a long explanation, in forward (or gradient) passes.</summary>
public readonly record struct ExplanationProgress(int Done, int Total);
