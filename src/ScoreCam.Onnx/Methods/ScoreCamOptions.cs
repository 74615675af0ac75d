namespace ScoreCam.Onnx.Methods;

/// <summary>Options of <see cref="ScoreCamMethod"/>. The defaults are the paper's algorithm.</summary>
public sealed record ScoreCamOptions
{
    /// <summary>Masked images per ONNX Runtime call.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Keep only this many channels, ranked by <see cref="ChannelRanking"/> (a Faster-Score-CAM-style speed-up, not
    /// the paper's algorithm: the others get weight 0). Null keeps every channel, as the paper does.
    /// </summary>
    public int? MaxChannels { get; init; }

    /// <summary>How channels are ranked when <see cref="MaxChannels"/> is set.</summary>
    public ChannelRanking ChannelRanking { get; init; } = ChannelRanking.Variance;

    /// <summary>Build the next batch of masked images while ONNX Runtime scores the current one.</summary>
    public bool Pipelined { get; init; } = true;

    /// <summary>Continuous min-max masks (paper eq. 1, default) or binarized masks (section 4.2).</summary>
    public MaskMode Masks { get; init; } = MaskMode.Normalized;

    /// <summary>Softmax probability (paper eq. 3-4, default) or raw score (section 4.3) as channel weight.</summary>
    public ScoreMode Scores { get; init; } = ScoreMode.Probability;

    /// <summary>
    /// Reproduce another implementation's numbers instead of the paper's. The compatibility variants fix their own
    /// masks and scores; <see cref="Masks"/> and <see cref="Scores"/> apply to <see cref="ScoreCamVariant.Paper"/> only.
    /// </summary>
    public ScoreCamVariant Variant { get; init; } = ScoreCamVariant.Paper;
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

public enum ScoreCamVariant
{
    /// <summary>The paper (section 4, DESIGN.md): constant maps skipped, weight = target probability of M_k.</summary>
    Paper,
    /// <summary>
    /// jacobgil/pytorch-grad-cam: upsampling with align_corners=True, masks (up − min)/(max − min + 1e-8) with
    /// constant maps kept as all-zero masks, raw target logit per mask, softmax of those across channels.
    /// </summary>
    PytorchGradCam,
    /// <summary>
    /// frgfm/torch-cam: maps min-max normalized before upsampling (align_corners=False), weight = softmax across
    /// channels of the target logit's increase over the unmasked input, Y^c(M_k) − Y^c(X).
    /// </summary>
    TorchCam,
}
