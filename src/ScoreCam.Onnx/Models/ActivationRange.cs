namespace ScoreCam.Onnx.Models;

/// <summary>The calibrated range of one activation tensor, what its uint8 quantization covers.</summary>
internal readonly record struct ActivationRange(float Min, float Max)
{
    /// <summary>
    /// Asymmetric uint8 parameters as ONNX Runtime's quantizer computes them: the range widened to include 0 (so 0 is
    /// exact), scale = (max − min) / 255, zero point = round(−min / scale); an empty range gets scale 1.
    /// </summary>
    public (float Scale, byte ZeroPoint) UInt8Parameters()
    {
        float min = MathF.Min(Min, 0f), max = MathF.Max(Max, 0f);
        if (max == min) return (1f, 0);
        float scale = (max - min) / 255f;
        return (scale, (byte)Math.Clamp(MathF.Round(-min / scale), 0f, 255f));
    }
}
