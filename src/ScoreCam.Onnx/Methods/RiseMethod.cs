using System.Buffers;
using System.Numerics.Tensors;
using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// RISE (Petsiuk, Das, Saenko: "RISE: Randomized Input Sampling for Explanation of Black-box Models"), the
/// forward-only baseline of the Score-CAM paper. N binary grids of s × s cells, each kept with probability p, are
/// upsampled bilinearly (align_corners = false) to (s + 1)·C where C = ⌈H / s⌉ (rows) and ⌈W / s⌉ (columns),
/// shifted by a random offset in [0, C) and cropped to H × W; each mask M_i multiplies the normalized input and the
/// model's score S_i for the target on it weights the mask: saliency = Σ_i S_i · M_i / (N · p).
/// <para>
/// The saliency is at input resolution (the result's map, H × W; no channel weights). Masks come from one
/// <see cref="Random"/> seeded with <see cref="RiseOptions.Seed"/>, drawn mask by mask: s·s
/// <see cref="Random.NextDouble"/> in row-major order (cell kept when &lt; p), then the row shift, then the column
/// shift (<see cref="Random.Next(int)"/>); the answer does not depend on the batch size. All targets are scored
/// from the same N passes. Thread-safe.
/// </para>
/// </summary>
public sealed class RiseMethod : IExplanationMethod
{
    public RiseMethod(RiseOptions? options = null)
    {
        Options = options ?? new RiseOptions();
        if (Options.Masks < 1) throw new ArgumentOutOfRangeException(nameof(options), "RISE needs at least one mask.");
        if (Options.GridSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "The grid needs at least one cell per side.");
        if (!(Options.KeepProbability > 0 && Options.KeepProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), "The keep probability must be in (0, 1].");
    }

    public RiseOptions Options { get; }

    public string Name => "rise";

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        ImageTensor image = context.Image;
        int targets = context.Targets.Count, height = image.Height, width = image.Width, plane = height * width;
        int n = Options.Masks, slots = Math.Min(context.Runner.MaxInFlight, n);
        var generator = new MaskGenerator(Options.GridSize, Options.KeepProbability, height, width, Options.Seed);
        var saliency = new float[targets][];
        for (int t = 0; t < targets; t++) saliency[t] = new float[plane];

        // Masks are drawn in item order as inputs are written; a ring of the runner's items in flight keeps each mask
        // until its scores arrive.
        float[] masks = ArrayPool<float>.Shared.Rent(slots * plane);
        var targetScores = new float[targets];
        try
        {
            context.Run(n,
                (item, input) =>
                {
                    Span<float> mask = masks.AsSpan(item % slots * plane, plane);
                    generator.Next(mask);
                    MapKernels.ApplyMask(image.Data, mask, input);
                    return true;
                },
                (item, row) =>
                {
                    context.Scorer.Score(row, Options.Scores, targetScores);
                    ReadOnlySpan<float> m = masks.AsSpan(item % slots * plane, plane);
                    for (int t = 0; t < targets; t++) TensorPrimitives.MultiplyAdd(m, targetScores[t], saliency[t], saliency[t]);
                });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(masks);
        }

        float scale = (float)(1.0 / (n * Options.KeepProbability));
        var results = new MethodResult[targets];
        for (int t = 0; t < targets; t++)
        {
            TensorPrimitives.Multiply(saliency[t], scale, saliency[t]);
            results[t] = new MethodResult(new SaliencyMap(width, height, saliency[t]));
        }
        return results;
    }

    /// <summary>Draws RISE's masks one after another from one seeded generator (see <see cref="RiseMethod"/>).</summary>
    internal sealed class MaskGenerator
    {
        private readonly Random _random;
        private readonly int _s, _height, _width, _cellHeight, _cellWidth;
        private readonly double _p;
        private readonly BilinearUpsampler _upsampler;
        private readonly float[] _grid, _upsampled, _scratch;

        public MaskGenerator(int gridSize, double keepProbability, int height, int width, int seed)
        {
            (_s, _p, _height, _width, _random) = (gridSize, keepProbability, height, width, new Random(seed));
            _cellHeight = (height + gridSize - 1) / gridSize;
            _cellWidth = (width + gridSize - 1) / gridSize;
            _upsampler = new BilinearUpsampler(gridSize, gridSize, (gridSize + 1) * _cellHeight, (gridSize + 1) * _cellWidth);
            _grid = new float[gridSize * gridSize];
            _upsampled = new float[_upsampler.TargetHeight * _upsampler.TargetWidth];
            _scratch = new float[_upsampler.ScratchLength];
        }

        public void Next(Span<float> mask)
        {
            for (int i = 0; i < _grid.Length; i++) _grid[i] = _random.NextDouble() < _p ? 1f : 0f;
            int dy = _random.Next(_cellHeight), dx = _random.Next(_cellWidth);
            _upsampler.Upsample(_grid, _upsampled, _scratch);
            int upWidth = _upsampler.TargetWidth;
            for (int y = 0; y < _height; y++)
                _upsampled.AsSpan((y + dy) * upWidth + dx, _width).CopyTo(mask.Slice(y * _width, _width));
        }
    }
}
