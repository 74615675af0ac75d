namespace ScoreCam.Onnx.Inference;

/// <summary>How an activation tensor's int8 range is taken from the values the calibration inputs gave it.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen (ONNX Runtime's MinMax calibration).</summary>
    MinMax,

    /// <summary>
    /// A histogram of the values over ±(largest magnitude seen), 2048 bins, cut at (100 − p) / 2 percent on each side
    /// (ONNX Runtime's Percentile calibration for asymmetric activations): a few outliers no longer widen the step.
    /// </summary>
    Percentile,
}
