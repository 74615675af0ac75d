namespace ScoreCam.Onnx.Methods;

/// <summary>Options of <see cref="IntegratedGradientsMethod"/>.</summary>
public sealed record IntegratedGradientsOptions
{
    /// <summary>Riemann steps m.</summary>
    public int Steps { get; init; } = 32;

    public IntegratedGradientsBaseline Baseline { get; init; } = IntegratedGradientsBaseline.Zeros;

    /// <summary>The blur baseline's Gaussian: kernel size (odd) and σ, in input pixels.</summary>
    public int BlurKernelSize { get; init; } = 11;

    public double BlurSigma { get; init; } = 5;
}

/// <summary>The reference input x′ of Integrated Gradients.</summary>
public enum IntegratedGradientsBaseline
{
    /// <summary>The zero tensor in the model's input space (the dataset's mean colour after mean / std normalization).</summary>
    Zeros,
    /// <summary>A black picture, preprocessed as the input.</summary>
    Black,
    /// <summary>A Gaussian-blurred copy of the input.</summary>
    Blur,
}
