namespace ScoreCam.Onnx.Methods;

/// <summary>Options of <see cref="RiseMethod"/>. The defaults are Petsiuk et al.'s (N = 4000, s = 8, p = 0.5).</summary>
public sealed record RiseOptions
{
    /// <summary>Random masks N (forward passes).</summary>
    public int Masks { get; init; } = 4000;

    /// <summary>Grid cells s per side of the low-resolution binary masks.</summary>
    public int GridSize { get; init; } = 8;

    /// <summary>Probability p that a grid cell is kept (1).</summary>
    public double KeepProbability { get; init; } = 0.5;

    /// <summary>Seed of the <see cref="System.Random"/> that draws the masks: the same seed gives the same saliency.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Softmax probability (default, as Petsiuk et al.) or raw score as each mask's weight.</summary>
    public ScoreMode Scores { get; init; } = ScoreMode.Probability;
}
