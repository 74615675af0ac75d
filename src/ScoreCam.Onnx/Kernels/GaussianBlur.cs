namespace ScoreCam.Onnx.Kernels;

/// <summary>
/// A separable Gaussian blur of image planes: the insertion metric's starting image (Petsiuk et al., RISE: kernel
/// 11 × 11, σ = 5). The kernel is the sampled Gaussian exp(−d²/2σ²) over [−r, r] normalized to sum 1; outside the
/// image counts as 0 (the reference implementation's zero-padded convolution; 0 is the mean colour of a normalized
/// input), or, with <c>reflect</c>, is the image mirrored at its edges without repeating them (PyTorch's and kornia's
/// "reflect" padding, Group-CAM's baseline). Immutable and thread-safe.
/// </summary>
internal sealed class GaussianBlur
{
    private readonly float[] _kernel;

    private readonly bool _reflect;

    public GaussianBlur(int kernelSize = 11, double sigma = 5, bool reflect = false)
    {
        _reflect = reflect;
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), "The kernel size must be odd and positive.");
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), "Sigma must be positive.");
        (KernelSize, Sigma) = (kernelSize, sigma);
        int r = kernelSize / 2;
        _kernel = new float[kernelSize];
        double sum = 0;
        for (int i = 0; i < kernelSize; i++) sum += _kernel[i] = (float)Math.Exp(-(double)(i - r) * (i - r) / (2 * sigma * sigma));
        for (int i = 0; i < kernelSize; i++) _kernel[i] = (float)(_kernel[i] / sum);
    }

    public int KernelSize { get; }
    public double Sigma { get; }

    /// <summary>The 1-D kernel (the 2-D kernel is its outer product).</summary>
    public ReadOnlySpan<float> Kernel => _kernel;

    /// <summary>Blurs <paramref name="planes"/> planes of height × width from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public void Apply(ReadOnlySpan<float> source, int planes, int height, int width, Span<float> destination)
    {
        int plane = height * width, r = KernelSize / 2;
        if (source.Length < planes * plane || destination.Length < planes * plane) throw new ArgumentException("The spans are shorter than the image.");
        var row = new float[plane];
        for (int c = 0; c < planes; c++)
        {
            ReadOnlySpan<float> src = source.Slice(c * plane, plane);
            Span<float> dst = destination.Slice(c * plane, plane);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float s = 0;
                    if (_reflect) for (int k = -r; k <= r; k++) s += _kernel[k + r] * src[y * width + Reflect(x + k, width)];
                    else for (int k = Math.Max(-r, -x); k <= Math.Min(r, width - 1 - x); k++) s += _kernel[k + r] * src[y * width + x + k];
                    row[y * width + x] = s;
                }
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float s = 0;
                    if (_reflect) for (int k = -r; k <= r; k++) s += _kernel[k + r] * row[Reflect(y + k, height) * width + x];
                    else for (int k = Math.Max(-r, -y); k <= Math.Min(r, height - 1 - y); k++) s += _kernel[k + r] * row[(y + k) * width + x];
                    dst[y * width + x] = s;
                }
        }
    }

    /// <summary>Index <paramref name="i"/> mirrored into [0, n) without repeating the edge (folding again where the kernel is wider than the image).</summary>
    private static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
        return i;
    }
}
