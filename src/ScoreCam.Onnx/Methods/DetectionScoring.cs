namespace ScoreCam.Onnx.Methods;

/// <summary>How a <see cref="DetectionTarget"/> scores a detector's output.</summary>
public enum DetectionScoring
{
    /// <summary>
    /// D-RISE's similarity (Petsiuk et al., CVPR 2021, eq. 2-3): the maximum over the proposals of IoU with the reference box ×
    /// objectness (1 where the layout has none) × cosine similarity of the class-score vectors, the reference's one-hot.
    /// </summary>
    DRise,
    /// <summary>
    /// pytorch-grad-cam's FasterRCNNBoxScoreTarget: the proposal that overlaps the reference box most, if its IoU exceeds the
    /// threshold and its class is the reference's, scores IoU + its confidence; else 0. Taken over the proposals at or above the
    /// confidence threshold (that library reads the detector's outputs after suppression; a raw head has no suppression).
    /// </summary>
    BoxScore,
}
