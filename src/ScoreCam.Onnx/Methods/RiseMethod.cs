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
public sealed class RiseMethod : IBatchedMethod
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

    public static readonly MethodOption<int> Masks = MethodOption.Integer("rise-masks", "RISE: random masks N.", new RiseOptions().Masks, 1, CommonOptions.MaxPasses, countsPasses: true);

    public static IReadOnlyList<MethodOption> Declared { get; } = [Masks, CommonOptions.Seed];

    public static RiseMethod From(MethodSettings s) => new(new RiseOptions { Masks = s.Get(Masks), Seed = s.Get(CommonOptions.Seed) });

    public IReadOnlyDictionary<string, string> Settings => MethodSettings.Describe((Masks, Options.Masks), (CommonOptions.Seed, Options.Seed));

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        using BatchedPasses passes = ((IBatchedMethod)this).Begin(context);
        return context.Run(passes);
    }

    BatchedPasses IBatchedMethod.Begin(ExplanationContext context) => new MaskedInputs(Options, context);

    /// <summary>One input's N masked passes.</summary>
    private sealed class MaskedInputs : BatchedPasses
    {
        private readonly RiseOptions _options;
        private readonly ExplanationContext _context;
        private readonly MaskGenerator _generator;
        private readonly float[][] _saliency;
        private readonly float[] _targetScores;
        private readonly int _plane, _slots;
        private float[]? _masks;

        public MaskedInputs(RiseOptions options, ExplanationContext context)
        {
            (_options, _context) = (options, context);
            ImageTensor image = context.Image;
            _plane = image.Height * image.Width;
            _slots = Math.Min(context.Runner.MaxInFlight, options.Masks);
            _generator = new MaskGenerator(options.GridSize, options.KeepProbability, image.Height, image.Width, options.Seed);
            _saliency = new float[context.Targets.Count][];
            for (int t = 0; t < _saliency.Length; t++) _saliency[t] = new float[_plane];
            _targetScores = new float[context.Targets.Count];
        }

        public override int Count => _options.Masks;

        // Masks are drawn in item order as inputs are written; a ring of the runner's items in flight keeps each mask
        // until its scores arrive. It is rented on the first write and returned after the last read, so in a run
        // over many inputs only the inputs in flight hold one.
        public override bool Write(int item, Span<float> input)
        {
            _masks ??= ArrayPool<float>.Shared.Rent(_slots * _plane);
            Span<float> mask = _masks.AsSpan(item % _slots * _plane, _plane);
            _generator.Next(mask);
            MapKernels.ApplyMask(_context.Image.Data, mask, input);
            return true;
        }

        public override void Read(int item, ReadOnlySpan<float> row)
        {
            _context.Scorer.Score(row, _options.Scores, _targetScores);
            ReadOnlySpan<float> m = _masks.AsSpan(item % _slots * _plane, _plane);
            for (int t = 0; t < _saliency.Length; t++) TensorPrimitives.MultiplyAdd(m, _targetScores[t], _saliency[t], _saliency[t]);
            if (item == Count - 1) ReturnMasks();
        }

        public override IReadOnlyList<MethodResult> Finish()
        {
            float scale = (float)(1.0 / (_options.Masks * _options.KeepProbability));
            var results = new MethodResult[_saliency.Length];
            for (int t = 0; t < results.Length; t++)
            {
                TensorPrimitives.Multiply(_saliency[t], scale, _saliency[t]);
                results[t] = new MethodResult(new SaliencyMap(_context.Image.Width, _context.Image.Height, _saliency[t]));
            }
            return results;
        }

        protected override void Dispose(bool disposing) => ReturnMasks();

        private void ReturnMasks()
        {
            if (_masks is not null) ArrayPool<float>.Shared.Return(_masks);
            _masks = null;
        }
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
