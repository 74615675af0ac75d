namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Options of <see cref="MaskMethod"/>. The defaults follow the public reference implementation of Fong and Vedaldi
/// that most comparisons use (a 28×28 mask, Adam with learning rate 0.1, L1 weight 0.01 and total-variation weight
/// 0.2 with β = 3, a Gaussian blur of kernel 11 and σ = 5 as the deleting perturbation), with 300 iterations as the
/// paper's; the noise is added in the model's input space.
/// </summary>
public sealed record MaskOptions
{
    /// <summary>Optimisation steps (each one forward and one gradient pass).</summary>
    public int Iterations { get; init; } = 300;

    /// <summary>The mask's side (cells), upsampled bilinearly to the input.</summary>
    public int Size { get; init; } = 28;

    public double LearningRate { get; init; } = 0.1;

    /// <summary>λ1: weight of the mean deletion mean|1 − m| (a small deleted area).</summary>
    public double L1 { get; init; } = 0.01;

    /// <summary>λ2: weight of the total variation (a smooth mask).</summary>
    public double TotalVariation { get; init; } = 0.2;

    /// <summary>β: the exponent of the total variation's differences.</summary>
    public double TotalVariationBeta { get; init; } = 3;

    /// <summary>What deleted regions show (Fong and Vedaldi's perturbations): a blurred copy (default) or a constant.</summary>
    public MaskPerturbation Perturbation { get; init; } = MaskPerturbation.Blur;

    /// <summary>The blurred copy that deleted regions show: Gaussian kernel size (odd) and σ, in input pixels.</summary>
    public int BlurKernelSize { get; init; } = 11;

    public double BlurSigma { get; init; } = 5;

    /// <summary>σ of the Gaussian noise added to the perturbed input at every step (0: none), against adversarial masks.</summary>
    public double Noise { get; init; } = 0.2;

    /// <summary>Seed of the noise: the same seed gives the same mask.</summary>
    public int Seed { get; init; }
}

/// <summary>What a deleted region of the Mask method's perturbed input shows.</summary>
public enum MaskPerturbation
{
    /// <summary>A Gaussian-blurred copy of the input (the reference's choice).</summary>
    Blur,
    /// <summary>The constant 0 of the model's input space: the dataset's mean colour after mean / std normalization.</summary>
    Constant,
}
