using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// What a method sees: the input, the unmasked forward pass (output row and the target layer's activations A, K
/// planes of h×w), the targets, and where to run more passes (the explainer's batch runner and gradient sessions).
/// One per explanation call; methods add the passes they run to its counters.
/// </summary>
public sealed class ExplanationContext
{
    private readonly GradientSessions _gradients;
    private readonly Lazy<float[][]> _headGradients;
    private readonly Lazy<float[]> _blackInput;
    private long _inferenceTicks;
    private int _passes, _skipped;

    internal ExplanationContext(PreparedModel model, ImageTensor image, float[] unmaskedScores, float[] activations, int channels, int height, int width,
        IReadOnlyList<ResolvedTarget> targets, IBatchRunner runner, GradientSessions gradients, Func<float[]> blackInput,
        IProgress<ExplanationProgress>? progress, CancellationToken cancellationToken)
    {
        (Model, Image, UnmaskedScores, Activations, Channels, Height, Width, Targets, Runner, _gradients, Progress, CancellationToken) =
            (model, image, unmaskedScores, activations, channels, height, width, targets, runner, gradients, progress, cancellationToken);
        _blackInput = new Lazy<float[]>(blackInput);
        Scorer = new TargetScorer(targets, model.OutputKind, model.OutputSize);
        _headGradients = new Lazy<float[][]>(ComputeHeadGradients);
    }

    public PreparedModel Model { get; }
    public ImageTensor Image { get; }
    /// <summary>The output row of the unmasked input.</summary>
    public float[] UnmaskedScores { get; }
    /// <summary>Activations A of the target layer, K planes of h×w.</summary>
    public float[] Activations { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<ResolvedTarget> Targets { get; }
    public TargetScorer Scorer { get; }
    /// <summary>Runs batches of inputs of the input's shape (masked images, perturbed copies).</summary>
    public IBatchRunner Runner { get; }
    public IProgress<ExplanationProgress>? Progress { get; }
    public CancellationToken CancellationToken { get; }

    /// <summary>A black picture of the input's size, preprocessed as the input was (C×H×W): a baseline of attribution methods.</summary>
    public ReadOnlySpan<float> BlackInput => _blackInput.Value;

    public ReadOnlySpan<float> ActivationMap(int k) => Activations.AsSpan(k * Height * Width, Height * Width);

    /// <summary>Forward passes the method ran beyond the unmasked one.</summary>
    public int ForwardPasses => _passes;

    /// <summary>Channels (or items) the method left out, such as Score-CAM's constant maps.</summary>
    public int SkippedChannels => _skipped;

    /// <summary>Time spent inside ONNX Runtime on the method's passes.</summary>
    public TimeSpan InferenceTime => TimeSpan.FromTicks(Interlocked.Read(ref _inferenceTicks));

    /// <summary>Runs items through <see cref="Runner"/>, reporting progress over them and counting their passes.</summary>
    public BatchRunSummary Run(int count, BatchInputWriter write, BatchOutputReader read) => Run(count, write, read, reportProgress: true);

    private BatchRunSummary Run(int count, BatchInputWriter write, BatchOutputReader read, bool reportProgress)
    {
        IProgress<int>? progress = Progress is null || !reportProgress ? null : new PassProgress(Progress, count);
        BatchRunSummary summary = Runner.Run(Image, count, write, read, progress, CancellationToken);
        Record(summary);
        return summary;
    }

    /// <summary>Runs an <see cref="IBatchedMethod"/>'s passes for this input alone and finishes them.</summary>
    public IReadOnlyList<MethodResult> Run(BatchedPasses passes)
    {
        Run(passes.Count, passes.Write, passes.Read);
        return passes.Finish();
    }

    /// <summary>Counts passes run for this context in batches shared with other inputs.</summary>
    internal void Record(BatchRunSummary summary)
    {
        Interlocked.Add(ref _passes, summary.Passes);
        Interlocked.Add(ref _skipped, summary.Skipped);
        Interlocked.Add(ref _inferenceTicks, summary.InferenceTime.Ticks);
    }

    /// <summary>Counts passes a method ran itself (gradient passes) and their time.</summary>
    public void Count(int passes, TimeSpan inference)
    {
        Interlocked.Add(ref _passes, passes);
        Interlocked.Add(ref _inferenceTicks, inference.Ticks);
    }

    /// <summary>
    /// dY/dA (K×h×w) of target <paramref name="target"/> from the head's gradient graph, for all targets in one
    /// batched run on first use. Y is the target class's pre-softmax score, or the custom target's scalar.
    /// </summary>
    public ReadOnlySpan<float> HeadGradients(int target) => _headGradients.Value[target];

    private float[][] ComputeHeadGradients()
    {
        CancellationToken.ThrowIfCancellationRequested();
        GradientSession session = _gradients.Head;
        int n = Targets.Count, plane = Channels * Height * Width, outputs = Model.OutputSize;
        var activations = new float[n * plane];
        var seeds = new float[n * outputs];
        for (int t = 0; t < n; t++)
        {
            Activations.CopyTo(activations, t * plane);
            GradientSeed.Write(Targets[t], UnmaskedScores, seeds.AsSpan(t * outputs, outputs), session.Softmax);
        }
        long start = Stopwatch.GetTimestamp();
        float[] gradients = session.Run(activations, seeds, n).Gradients;
        Count(n, Stopwatch.GetElapsedTime(start));
        var result = new float[n][];
        for (int t = 0; t < n; t++) result[t] = gradients.AsSpan(t * plane, plane).ToArray();
        return result;
    }

    /// <summary>
    /// Input gradients dY/dx of target <paramref name="target"/> for <paramref name="count"/> inputs laid out one after
    /// another in <paramref name="inputs"/> (each C×H×W, the input's shape), in batches of the runner's size, with the
    /// plain rule or Guided Backpropagation's. Also returns Y at each input: the class's pre-softmax score, or the
    /// custom target's scalar (whose seed is taken at each input's own output row, one extra forward pass each).
    /// Progress is reported over the <paramref name="count"/> inputs.
    /// </summary>
    public (float[] Gradients, float[] Scores) InputGradients(ReadOnlySpan<float> inputs, int count, int target, bool guided)
    {
        ImageTensor image = Image;
        int length = image.Data.Length, outputs = Model.OutputSize;
        if (inputs.Length != count * length) throw new ArgumentException($"Expected {count} inputs of {length} values; got {inputs.Length}.", nameof(inputs));
        GradientSession session = _gradients.Input(image.Height, image.Width, guided);
        ResolvedTarget resolved = Targets[target];
        var gradients = new float[count * length];
        var scores = new float[count];
        var none = Array.Empty<float>();
        int batch = Math.Max(1, Runner.BatchSize);
        float[] rows = new float[Math.Min(batch, count) * outputs], seeds = new float[Math.Min(batch, count) * outputs];
        for (int start = 0; start < count; start += batch)
        {
            CancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(batch, count - start);
            ReadOnlySpan<float> chunk = inputs.Slice(start * length, n * length);
            if (resolved.ClassIndex is null)
            {
                var source = chunk.ToArray();
                Run(n, (i, slot) => { source.AsSpan(i * length, length).CopyTo(slot); return true; }, (i, row) => row.CopyTo(rows.AsSpan(i * outputs, outputs)),
                    reportProgress: false);
            }
            for (int i = 0; i < n; i++)
            {
                float[] row = resolved.ClassIndex is null ? rows.AsSpan(i * outputs, outputs).ToArray() : UnmaskedScores;
                GradientSeed.Write(resolved, row, seeds.AsSpan(i * outputs, outputs), session.Softmax);
            }
            long begin = Stopwatch.GetTimestamp();
            var (logits, g) = session.Run(chunk.ToArray(), seeds.AsMemory(0, n * outputs), n);
            Count(n, Stopwatch.GetElapsedTime(begin));
            g.CopyTo(gradients, start * length);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> z = logits.AsSpan(i * outputs, outputs);
                scores[start + i] = resolved.ClassIndex is { } c ? z[c] : resolved.Score(rows.AsSpan(i * outputs, outputs), none, ScoreMode.RawScore);
            }
            Progress?.Report(new ExplanationProgress(start + n, count));
        }
        return (gradients, scores);
    }

    /// <summary>
    /// The gradient with respect to one input (C×H×W, the input's shape) of target <paramref name="target"/>'s score in
    /// <paramref name="mode"/>: a class's softmax probability (<see cref="ScoreMode.Probability"/>, as the metrics and
    /// the Mask optimisation use) or its pre-softmax score, or the custom target's scalar. One forward pass (for the
    /// output row the seed depends on) and one gradient pass, reporting no progress. Returns the gradient and the score.
    /// </summary>
    public (float[] Gradient, float Score) ScoreInputGradient(ReadOnlySpan<float> input, int target, ScoreMode mode)
    {
        ImageTensor image = Image;
        int outputs = Model.OutputSize;
        GradientSession session = _gradients.Input(image.Height, image.Width, guided: false);
        ResolvedTarget resolved = Targets[target];
        var row = new float[outputs];
        float[] copy = input.ToArray();
        Run(1, (_, slot) => { copy.CopyTo(slot); return true; }, (_, r) => r.CopyTo(row), reportProgress: false);
        var probabilities = new float[outputs];
        ResolvedTarget.Probabilities(row, Model.OutputKind, probabilities);
        float score = resolved.Score(row, probabilities, mode);
        var seed = new float[outputs];
        if (resolved.ClassIndex is { } c && mode == ScoreMode.Probability)
        {
            // d p_c / d z for the graph's logits z: through the softmax (the model's own, over the groups it normalises,
            // or the row's of eq. 3 for logits), or the sigmoid of a single logit; the output itself when the model
            // outputs probabilities that the graph could not trace back to a Softmax.
            if (Model.OutputKind == ModelOutputKind.SingleLogit) seed[0] = probabilities[0] * (1 - probabilities[0]);
            else
            {
                seed[c] = 1;
                if (Model.OutputKind != ModelOutputKind.Probabilities || session.Softmax is not null)
                    (session.Softmax ?? new SoftmaxAxis(outputs, 1)).Backward(probabilities, seed);
            }
        }
        else GradientSeed.Write(resolved, row, seed, session.Softmax);
        long begin = Stopwatch.GetTimestamp();
        float[] gradient = session.Run(copy, seed, 1).Gradients;
        Count(1, Stopwatch.GetElapsedTime(begin));
        return (gradient, score);
    }

    private sealed class PassProgress(IProgress<ExplanationProgress> progress, int total) : IProgress<int>
    {
        public void Report(int value) => progress.Report(new ExplanationProgress(value, total));
    }
}
