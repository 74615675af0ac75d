namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// One item's explanation: its target score on the input, the energy share inside its own box and on the other items
/// (null when it is alone), and the best IoU of the model's detections of its class with its box (0: not found).
/// </summary>
public sealed record DetectionRow(string Image, int Item, int ClassIndex, string Method, float Score, double EnergyInBox, double? EnergyOnOthers,
    float DetectedIou, int ForwardPasses, double Seconds);
