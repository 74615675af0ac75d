namespace ScoreCam.Onnx.Methods;

/// <summary>Options of <see cref="ScoreCamMethod"/>. The defaults are the paper's algorithm.</summary>
public sealed record ScoreCamOptions
{
    /// <summary>
    /// Keep only this many channels, ranked by <see cref="ChannelRanking"/> (a Faster-Score-CAM-style speed-up, not
    /// the paper's algorithm: the others get weight 0). Null keeps every channel, as the paper does.
    /// </summary>
    public int? MaxChannels { get; init; }

    /// <summary>How channels are ranked when <see cref="MaxChannels"/> is set.</summary>
    public ChannelRanking ChannelRanking { get; init; } = ChannelRanking.Variance;

    /// <summary>Continuous min-max masks (paper eq. 1, default) or binarized masks (section 4.2).</summary>
    public MaskMode Masks { get; init; } = MaskMode.Normalized;

    /// <summary>Softmax probability (paper eq. 3-4, default) or raw score (section 4.3) as channel weight.</summary>
    public ScoreMode Scores { get; init; } = ScoreMode.Probability;

    /// <summary>
    /// Reproduce another implementation's numbers instead of the paper's. The compatibility variants fix their own
    /// masks and scores; <see cref="Masks"/> and <see cref="Scores"/> apply to <see cref="CompatibilityVariant.Paper"/> only.
    /// </summary>
    public CompatibilityVariant Variant { get; init; } = CompatibilityVariant.Paper;
}

public enum ChannelRanking
{
    /// <summary>Spatial variance of A_k (tf-keras-vis Faster-ScoreCAM's max_N selection).</summary>
    Variance,
    /// <summary>Spatial mean of A_k.</summary>
    Mean,
}

public enum MaskMode
{
    /// <summary>m_k = (up_k − min) / (max − min) (paper eq. 1).</summary>
    Normalized,
    /// <summary>m_k = 1 where up_k &gt; 0, else 0 (paper section 4.2).</summary>
    Binarized,
}
