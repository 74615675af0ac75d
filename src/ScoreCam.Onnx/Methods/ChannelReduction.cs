namespace ScoreCam.Onnx.Methods;

/// <summary>How a C×H×W attribution becomes the H×W map that is shown and scored.</summary>
public enum ChannelReduction
{
    /// <summary>max_c |a_c| (Simonyan et al.'s saliency map; the default).</summary>
    MaxAbs,
    /// <summary>Σ_c |a_c|.</summary>
    SumAbs,
    /// <summary>Σ_c a_c, signed (Integrated Gradients' per-pixel attribution); negative parts become the map's low end.</summary>
    Sum,
    /// <summary>sqrt(Σ_c a_c²).</summary>
    L2,
}
