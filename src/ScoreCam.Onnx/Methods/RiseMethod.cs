using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// RISE (Petsiuk, Das, Saenko: "RISE: Randomized Input Sampling for Explanation of Black-box Models"), the
/// forward-only baseline of the Score-CAM paper. N binary grids of s × s cells, each kept with probability p, are
/// upsampled bilinearly (align_corners = false) to (s + 1)·C where C = ⌈H / s⌉ (rows) and ⌈W / s⌉ (columns),
/// shifted by a random offset in [0, C) and cropped to H × W; each mask M_i multiplies the normalized input and the
/// model's score S_i for the target on it weights the mask: saliency = Σ_i S_i · M_i / (N · p).
/// <para>
/// The saliency is at input resolution and is not a weighted sum of the target layer's channels, so RISE is not a
/// <see cref="CamMethod"/>; it runs on the explainer's <see cref="ModelSession"/> and returns the same
/// <see cref="Explanation"/> (<see cref="Explanation.Map"/> = the saliency, H × W; <see cref="Explanation.Heatmap"/> =
/// the saliency min-max normalized; no channel weights). Masks come from one <see cref="Random"/> seeded with
/// <see cref="RiseOptions.Seed"/>, drawn mask by mask: s·s <see cref="Random.NextDouble"/> in row-major order
/// (cell kept when &lt; p), then the row shift, then the column shift (<see cref="Random.Next(int)"/>); the answer does
/// not depend on the batch size. Thread-safe.
/// </para>
/// </summary>
public sealed class RiseMethod
{
    public RiseMethod(RiseOptions? options = null)
    {
        Options = options ?? new RiseOptions();
        if (Options.Masks < 1) throw new ArgumentOutOfRangeException(nameof(options), "RISE needs at least one mask.");
        if (Options.GridSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "The grid needs at least one cell per side.");
        if (!(Options.KeepProbability > 0 && Options.KeepProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), "The keep probability must be in (0, 1].");
        if (Options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "Batch size must be at least 1.");
    }

    public RiseOptions Options { get; }

    public string Name => "rise";

    /// <summary>Explains one target with the explainer's session and labels.</summary>
    public Explanation Explain(CamExplainer explainer, ImageTensor image, ExplanationTarget? target = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ExplainTargets(explainer.Session, image, new[] { target ?? ExplanationTarget.TopPrediction }, explainer.Labels, progress, cancellationToken)[0];

    /// <summary>Explains several targets from the same N masked passes.</summary>
    public IReadOnlyList<Explanation> ExplainTargets(ModelSession session, ImageTensor image, IReadOnlyList<ExplanationTarget> targets,
        IReadOnlyList<string>? labels = null, IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (targets.Count == 0) throw new ArgumentException("Name at least one target.", nameof(targets));
        PreparedModel model = session.Model;
        if (image.Channels != model.Input.Channels)
            throw new ScoreCamException($"The model takes {model.Input.Channels}-channel images; the tensor has {image.Channels} channels.");
        var clock = Stopwatch.StartNew();
        int rowLength = model.OutputSize, length = image.Data.Length, height = image.Height, width = image.Width, plane = height * width;

        var unmaskedScores = new float[rowLength];
        var inference = Stopwatch.StartNew();
        session.Scores(image.Data.AsMemory(), 1, image, unmaskedScores);
        inference.Stop();
        var probabilities = new float[rowLength];
        ResolvedTarget.Probabilities(unmaskedScores, model.OutputKind, probabilities);
        int top = model.OutputKind == ModelOutputKind.SingleLogit ? 0 : ResolvedTarget.ArgMax(unmaskedScores);
        string? Label(int i) => labels is not null && i < labels.Count ? labels[i] : null;
        var prediction = new Prediction(top, Label(top), probabilities[top]);
        var resolved = targets.Select(t => ResolvedTarget.Resolve(t, model, labels, unmaskedScores)).ToList();
        var scorer = new TargetScorer(resolved, model.OutputKind, rowLength);
        var unmasked = new float[resolved.Count];
        scorer.Score(unmaskedScores, ScoreMode.Probability, unmasked);

        int n = Options.Masks, s = Options.GridSize, batchSize = Math.Min(Options.BatchSize, n);
        var generator = new MaskGenerator(s, Options.KeepProbability, height, width, Options.Seed);
        var saliency = new float[resolved.Count][];
        for (int t = 0; t < resolved.Count; t++) saliency[t] = new float[plane];

        var pool = ArrayPool<float>.Shared;
        float[] batch = pool.Rent(batchSize * length), masks = pool.Rent(batchSize * plane), scores = pool.Rent(batchSize * rowLength);
        var targetScores = new float[resolved.Count];
        try
        {
            int filled = 0, done = 0;
            for (int i = 0; i < n; i++)
            {
                Span<float> mask = masks.AsSpan(filled * plane, plane);
                generator.Next(mask);
                MapKernels.ApplyMask(image.Data, mask, batch.AsSpan(filled * length, length));
                if (++filled < batchSize && i < n - 1) continue;

                cancellationToken.ThrowIfCancellationRequested();
                inference.Start();
                session.Scores(batch.AsMemory(0, filled * length), filled, image, scores);
                inference.Stop();
                for (int j = 0; j < filled; j++)
                {
                    scorer.Score(scores.AsSpan(j * rowLength, rowLength), Options.Scores, targetScores);
                    ReadOnlySpan<float> m = masks.AsSpan(j * plane, plane);
                    for (int t = 0; t < resolved.Count; t++) TensorPrimitives.MultiplyAdd(m, targetScores[t], saliency[t], saliency[t]);
                }
                done += filled;
                filled = 0;
                progress?.Report(new ExplanationProgress(done, n));
            }
        }
        finally
        {
            pool.Return(batch);
            pool.Return(masks);
            pool.Return(scores);
        }

        float scale = (float)(1.0 / (n * Options.KeepProbability));
        var results = new Explanation[resolved.Count];
        for (int t = 0; t < resolved.Count; t++)
        {
            TensorPrimitives.Multiply(saliency[t], scale, saliency[t]);
            float[] heat = (float[])saliency[t].Clone();
            if (!MapKernels.TryMinMaxNormalize(heat)) Array.Clear(heat);
            ResolvedTarget r = resolved[t];
            results[t] = new Explanation(Name, new TargetInfo(r.Name, r.ClassIndex, r.Label, unmasked[t]), prediction,
                new SaliencyMap(width, height, saliency[t]), new SaliencyMap(width, height, heat), Array.Empty<float>(), model.Layer,
                n + 1, 0, clock.Elapsed, inference.Elapsed);
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
