using System.Numerics.Tensors;

namespace ScoreCam.Onnx.Kernels;

/// <summary>
/// Bilinear resize of single-channel maps from (<see cref="SourceHeight"/>, <see cref="SourceWidth"/>) to
/// (<see cref="TargetHeight"/>, <see cref="TargetWidth"/>), with PyTorch's <c>F.interpolate(mode="bilinear")</c>
/// semantics. The sampling tables are computed once; <see cref="Upsample"/> allocates nothing, so one instance
/// serves every channel of a layer. Immutable and thread-safe; each caller passes its own scratch span.
/// </summary>
internal sealed class BilinearUpsampler
{
    private readonly int[] _x0, _x1, _y0, _y1;
    private readonly float[] _xLambda, _yLambda;

    public BilinearUpsampler(int sourceHeight, int sourceWidth, int targetHeight, int targetWidth, bool alignCorners = false)
    {
        if (sourceHeight <= 0 || sourceWidth <= 0 || targetHeight <= 0 || targetWidth <= 0)
            throw new ArgumentOutOfRangeException(nameof(sourceHeight), "Map sizes must be positive.");
        (SourceHeight, SourceWidth, TargetHeight, TargetWidth, AlignCorners) =
            (sourceHeight, sourceWidth, targetHeight, targetWidth, alignCorners);
        (_x0, _x1, _xLambda) = Table(sourceWidth, targetWidth, alignCorners);
        (_y0, _y1, _yLambda) = Table(sourceHeight, targetHeight, alignCorners);
    }

    public int SourceHeight { get; }
    public int SourceWidth { get; }
    public int TargetHeight { get; }
    public int TargetWidth { get; }
    public bool AlignCorners { get; }

    /// <summary>Length of the scratch span <see cref="Upsample"/> needs: the source rows resized horizontally.</summary>
    public int ScratchLength => SourceHeight * TargetWidth;

    public void Upsample(ReadOnlySpan<float> source, Span<float> destination, Span<float> scratch)
    {
        int w = SourceWidth, tw = TargetWidth;
        if (source.Length < SourceHeight * w) throw new ArgumentException("Source span is shorter than the map.", nameof(source));
        if (destination.Length < TargetHeight * tw) throw new ArgumentException("Destination span is shorter than the map.", nameof(destination));
        if (scratch.Length < ScratchLength) throw new ArgumentException($"Scratch must hold {ScratchLength} floats.", nameof(scratch));

        // Separable: resize each source row horizontally (h × W gathers, h is small), then blend two of
        // those rows per output row with a vectorized lerp.
        for (int y = 0; y < SourceHeight; y++)
        {
            ReadOnlySpan<float> row = source.Slice(y * w, w);
            Span<float> wide = scratch.Slice(y * tw, tw);
            for (int x = 0; x < tw; x++)
            {
                float a = row[_x0[x]];
                wide[x] = a + (row[_x1[x]] - a) * _xLambda[x];
            }
        }
        for (int y = 0; y < TargetHeight; y++)
        {
            Span<float> outRow = destination.Slice(y * tw, tw);
            ReadOnlySpan<float> top = scratch.Slice(_y0[y] * tw, tw);
            if (_y0[y] == _y1[y] || _yLambda[y] == 0f) top.CopyTo(outRow);
            else TensorPrimitives.Lerp(top, scratch.Slice(_y1[y] * tw, tw), _yLambda[y], outRow);
        }
    }

    /// <summary>
    /// The transpose of <see cref="Upsample"/>: adds to <paramref name="source"/> (a source-size map) the gradient of a
    /// scalar with respect to the source map, given its gradient <paramref name="destination"/> with respect to the
    /// upsampled map (each target pixel's gradient goes back to its four source pixels with the same weights).
    /// </summary>
    public void Transpose(ReadOnlySpan<float> destination, Span<float> source)
    {
        int w = SourceWidth, tw = TargetWidth;
        if (destination.Length < TargetHeight * tw) throw new ArgumentException("Destination span is shorter than the map.", nameof(destination));
        if (source.Length < SourceHeight * w) throw new ArgumentException("Source span is shorter than the map.", nameof(source));
        for (int y = 0; y < TargetHeight; y++)
        {
            float ly = _yLambda[y];
            int top = _y0[y] * w, bottom = _y1[y] * w;
            for (int x = 0; x < tw; x++)
            {
                float g = destination[y * tw + x], lx = _xLambda[x];
                float upper = g * (1 - ly), lower = g * ly;
                source[top + _x0[x]] += upper * (1 - lx);
                source[top + _x1[x]] += upper * lx;
                source[bottom + _x0[x]] += lower * (1 - lx);
                source[bottom + _x1[x]] += lower * lx;
            }
        }
    }

    private static (int[] I0, int[] I1, float[] Lambda) Table(int inSize, int outSize, bool alignCorners)
    {
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var lambda = new float[outSize];
        // PyTorch's area_pixel_compute_scale / area_pixel_compute_source_index.
        float scale = alignCorners
            ? (outSize > 1 ? (inSize - 1) / (float)(outSize - 1) : 0f)
            : inSize / (float)outSize;
        for (int o = 0; o < outSize; o++)
        {
            float src = alignCorners ? o * scale : Math.Max((o + 0.5f) * scale - 0.5f, 0f);
            int lo = Math.Min((int)src, inSize - 1);
            i0[o] = lo;
            i1[o] = Math.Min(lo + 1, inSize - 1);
            lambda[o] = i1[o] == lo ? 0f : src - lo;
        }
        return (i0, i1, lambda);
    }
}
