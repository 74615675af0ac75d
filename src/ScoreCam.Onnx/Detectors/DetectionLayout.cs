namespace ScoreCam.Onnx.Detectors;

/// <summary>How a detector's output holds its proposals.</summary>
public enum DetectionLayout
{
    /// <summary>Ultralytics YOLOv8 / v11 raw head: 4+C × N, rows cx, cy, w, h (input pixels) and C class scores.</summary>
    YoloV8,
    /// <summary>Ultralytics YOLOv5 raw head: N × 5+C, columns cx, cy, w, h, objectness and C class probabilities.</summary>
    YoloV5,
    /// <summary>End-to-end (NMS-free or NMS-applied) export: N × 6, columns x0, y0, x1, y1, score and class.</summary>
    EndToEnd,
    /// <summary>
    /// A graph with non-maximum suppression inside (torchvision's detectors): outputs boxes K×4 (x0, y0, x1, y1), scores K and
    /// labels K, which preparation gathers into one output read like <see cref="EndToEnd"/>'s rows
    /// (<see cref="Models.SuppressedDetections"/>); the detections are the graph's, suppressed already.
    /// </summary>
    BoxesScoresLabels,
}
