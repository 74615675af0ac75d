namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// One item's explanation by a segmenter: its target score on the input (the item's class summed over its pixels), the
/// energy share inside its pixels and on the other items' pixels (null when it is alone), and the share of its pixels
/// the model assigns to its class.
/// </summary>
public sealed record SegmentationRow(string Image, int Item, int ClassIndex, string Method, float Score, double EnergyInItem, double? EnergyOnOthers,
    float AssignedShare, int ForwardPasses, double Seconds);
