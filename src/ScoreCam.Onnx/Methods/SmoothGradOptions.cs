namespace ScoreCam.Onnx.Methods;

/// <summary>Options of <see cref="SmoothGradMethod"/>; the defaults are Smilkov et al.'s (N = 50, 15% noise).</summary>
public sealed record SmoothGradOptions
{
    /// <summary>Noisy copies N.</summary>
    public int Samples { get; init; } = 50;

    /// <summary>Noise level: σ = Noise × (max x − min x).</summary>
    public double Noise { get; init; } = 0.15;

    /// <summary>Seed of the <see cref="System.Random"/> that draws the noise.</summary>
    public int Seed { get; init; }
}
