using System.Buffers;
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
    private readonly Lazy<float[]> _headGradients;
    private readonly Lazy<float[]> _blackInput;
    private readonly Func<float[]> _blackPicture;
    private readonly Func<ImageTensor, UnmaskedPass> _forward;
    private long _inferenceTicks;
    private int _passes, _skipped;

    internal ExplanationContext(PreparedModel model, ImageTensor image, float[] unmaskedScores, float[] activations, int channels, int height, int width,
        IReadOnlyList<ResolvedTarget> targets, IBatchRunner runner, GradientSessions gradients, Func<float[]> blackInput,
        Func<ImageTensor, UnmaskedPass> forward, IProgress<ExplanationProgress>? progress, CancellationToken cancellationToken)
    {
        (Model, Image, UnmaskedScores, Activations, Channels, Height, Width, Targets, Runner, _gradients, Progress, CancellationToken) =
            (model, image, unmaskedScores, activations, channels, height, width, targets, runner, gradients, progress, cancellationToken);
        (_blackPicture, _forward) = (blackInput, forward);
        _blackInput = new Lazy<float[]>(blackInput);
        Scorer = new TargetScorer(targets, model);
        _headGradients = new Lazy<float[]>(ComputeHeadGradients);
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
    internal IReadOnlyList<ResolvedTarget> Targets { get; }
    internal TargetScorer Scorer { get; }
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

    /// <summary>
    /// The context of a transformed copy of the input (<paramref name="image"/>, of the input's shape) for the same
    /// resolved targets: one unmasked forward pass of it, counted here. The passes a method runs on the new context
    /// are its own; <see cref="Record(ExplanationContext)"/> adds them here.
    /// </summary>
    internal ExplanationContext Transformed(ImageTensor image, IProgress<ExplanationProgress>? progress)
    {
        if (image.Channels != Image.Channels || image.Height != Image.Height || image.Width != Image.Width)
            throw new ArgumentException($"A transformed input must keep the input's shape {Image.Channels}x{Image.Height}x{Image.Width}.", nameof(image));
        CancellationToken.ThrowIfCancellationRequested();
        UnmaskedPass pass = _forward(image);
        Count(1, pass.Duration);
        return new ExplanationContext(Model, image, pass.Scores, pass.Activations, pass.Channels, pass.Height, pass.Width, Targets, Runner, _gradients,
            _blackPicture, _forward, progress, CancellationToken);
    }

    /// <summary>This input's context again with another progress sink: the untransformed member of a set of transformed copies.</summary>
    internal ExplanationContext WithProgress(IProgress<ExplanationProgress>? progress) =>
        new(Model, Image, UnmaskedScores, Activations, Channels, Height, Width, Targets, Runner, _gradients, _blackPicture, _forward, progress, CancellationToken);

    /// <summary>Counts the passes, left-out items and inference time of a context made from this one.</summary>
    internal void Record(ExplanationContext other)
    {
        Interlocked.Add(ref _passes, other._passes);
        Interlocked.Add(ref _skipped, other._skipped);
        Interlocked.Add(ref _inferenceTicks, Interlocked.Read(ref other._inferenceTicks));
    }

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
    internal IReadOnlyList<MethodResult> Run(BatchedPasses passes)
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
    /// Runs <paramref name="count"/> altered copies of the activations (K×h×w each, written by <paramref name="write"/>)
    /// through the model from the target layer on, in batches of the runner's size; <paramref name="read"/> receives
    /// each output row. Progress is reported over the <paramref name="count"/> items and the passes are counted.
    /// </summary>
    internal void RunTail(int count, BatchInputWriter write, BatchOutputReader read)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(read);
        TailSession tail = _gradients.Tail;
        int length = tail.ActivationLength, outputs = Model.OutputSize, batch = Math.Min(Math.Max(1, Runner.BatchSize), Math.Max(1, count));
        float[] inputs = ArrayPool<float>.Shared.Rent(batch * length);
        var rows = new float[batch * outputs];
        try
        {
            for (int start = 0; start < count; start += batch)
            {
                CancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(batch, count - start);
                for (int i = 0; i < n; i++) write(start + i, inputs.AsSpan(i * length, length));
                long begin = Stopwatch.GetTimestamp();
                tail.Run(inputs.AsMemory(0, n * length), n, rows.AsSpan(0, n * outputs), Image);
                Count(n, Stopwatch.GetElapsedTime(begin));
                for (int i = 0; i < n; i++) read(start + i, rows.AsSpan(i * outputs, outputs));
                Progress?.Report(new ExplanationProgress(start + n, count));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(inputs);
        }
    }

    /// <summary>
    /// dY/dA (K×h×w) of target <paramref name="target"/> from the head's gradient graph, for all targets in one
    /// batched run on first use. Y is the target class's pre-softmax score, or the custom target's scalar.
    /// </summary>
    public ReadOnlySpan<float> HeadGradients(int target)
    {
        int plane = Channels * Height * Width;
        return _headGradients.Value.AsSpan(target * plane, plane);
    }

    private float[] ComputeHeadGradients()
    {
        CancellationToken.ThrowIfCancellationRequested();
        GradientSession session = _gradients.Head;
        int n = Targets.Count, plane = Channels * Height * Width, outputs = Model.OutputSize;
        // The graph's source: the activations, or the image where it runs the whole model with the layer as a leaf.
        float[] source = session.TakesImage ? Image.Data : Activations;
        // One target runs on the source itself; more need it once per batch row.
        float[]? rows = n == 1 ? null : ArrayPool<float>.Shared.Rent(n * source.Length);
        try
        {
            var seeds = new float[n * outputs];
            for (int t = 0; t < n; t++)
            {
                if (rows is not null) source.CopyTo(rows, t * source.Length);
                GradientSeed.Write(Targets[t], Model, UnmaskedScores, seeds.AsSpan(t * outputs, outputs), session.Softmax);
            }
            var gradients = new float[n * plane];
            long start = Stopwatch.GetTimestamp();
            session.Run(rows is null ? source : rows.AsMemory(0, n * source.Length), seeds, new float[n * outputs], gradients, n);
            Count(n, Stopwatch.GetElapsedTime(start));
            return gradients;
        }
        finally
        {
            if (rows is not null) ArrayPool<float>.Shared.Return(rows);
        }
    }

    /// <summary>
    /// Input gradients dY/dx of target <paramref name="target"/> for <paramref name="count"/> inputs (each C×H×W, the
    /// input's shape) that <paramref name="write"/> fills, in batches of the runner's size, with the plain rule or
    /// Guided Backpropagation's; <paramref name="read"/> receives each gradient and Y at its input: the class's
    /// pre-softmax score, or the custom target's scalar (whose seed is taken at each input's own output row, one
    /// extra forward pass each). The batch buffers are pooled and reused from batch to batch, so the inputs and
    /// gradients of all <paramref name="count"/> passes are never held at once. Progress is reported over the
    /// <paramref name="count"/> inputs.
    /// </summary>
    public void InputGradients(int count, int target, bool guided, GradientInputWriter write, GradientReader read)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ImageTensor image = Image;
        int length = image.Data.Length, outputs = Model.OutputSize;
        GradientSession session = _gradients.Input(image.Height, image.Width, guided);
        ResolvedTarget resolved = Targets[target];
        bool custom = resolved.ClassIndex is null;
        int batch = Math.Min(Math.Max(1, Runner.BatchSize), count);
        float[] inputs = ArrayPool<float>.Shared.Rent(batch * length), gradients = ArrayPool<float>.Shared.Rent(batch * length);
        float[] logits = new float[batch * outputs], seeds = new float[batch * outputs], rows = custom ? new float[batch * outputs] : Array.Empty<float>();
        try
        {
            for (int start = 0; start < count; start += batch)
            {
                CancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(batch, count - start);
                for (int i = 0; i < n; i++) write(start + i, inputs.AsSpan(i * length, length));
                if (custom)
                    Run(n, (i, slot) => { inputs.AsSpan(i * length, length).CopyTo(slot); return true; },
                        (i, row) => row.CopyTo(rows.AsSpan(i * outputs, outputs)), reportProgress: false);
                for (int i = 0; i < n; i++)
                    GradientSeed.Write(resolved, Model, custom ? rows.AsSpan(i * outputs, outputs) : UnmaskedScores, seeds.AsSpan(i * outputs, outputs), session.Softmax);
                long begin = Stopwatch.GetTimestamp();
                session.Run(inputs.AsMemory(0, n * length), seeds.AsMemory(0, n * outputs), logits.AsSpan(0, n * outputs), gradients.AsSpan(0, n * length), n);
                Count(n, Stopwatch.GetElapsedTime(begin));
                for (int i = 0; i < n; i++)
                {
                    float score = resolved.ClassIndex is { } c ? logits[i * outputs + c] : resolved.Score(TargetScorer.Outputs(Model, rows.AsSpan(i * outputs, outputs)), ScoreMode.RawScore);
                    read(start + i, gradients.AsSpan(i * length, length), score);
                }
                Progress?.Report(new ExplanationProgress(start + n, count));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(inputs);
            ArrayPool<float>.Shared.Return(gradients);
        }
    }

    /// <summary>
    /// The gradient with respect to one input (C×H×W, the input's shape) of target <paramref name="target"/>'s score in
    /// <paramref name="mode"/>: a class's softmax probability (<see cref="ScoreMode.Probability"/>, as the metrics and
    /// the Mask optimisation use) or its pre-softmax score, or the custom target's scalar. One forward pass (for the
    /// output row the seed depends on) and one gradient pass, reporting no progress. Returns the gradient and the score.
    /// </summary>
    public (float[] Gradient, float Score) ScoreInputGradient(ReadOnlySpan<float> input, int target, ScoreMode mode)
    {
        var gradient = new float[input.Length];
        float score = ScoreInputGradient(input.ToArray(), target, mode, gradient);
        return (gradient, score);
    }

    /// <summary>
    /// As <see cref="ScoreInputGradient(ReadOnlySpan{float}, int, ScoreMode)"/>, writing the gradient into
    /// <paramref name="gradient"/> (C×H×W) and returning the score, for a caller that runs many steps on its own
    /// buffers (the Mask optimisation).
    /// </summary>
    public float ScoreInputGradient(ReadOnlyMemory<float> input, int target, ScoreMode mode, Span<float> gradient)
    {
        ImageTensor image = Image;
        int outputs = Model.OutputSize;
        if (input.Length != image.Data.Length) throw new ArgumentException($"Expected an input of {image.Data.Length} values; got {input.Length}.", nameof(input));
        GradientSession session = _gradients.Input(image.Height, image.Width, guided: false);
        ResolvedTarget resolved = Targets[target];
        var row = new float[outputs];
        Run(1, (_, slot) => { input.Span.CopyTo(slot); return true; }, (_, r) => r.CopyTo(row), reportProgress: false);
        var probabilities = new float[outputs];
        ResolvedTarget.Probabilities(row, Model.OutputKind, probabilities);
        float score = resolved.Score(TargetScorer.Outputs(Model, row, probabilities), mode);
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
        else GradientSeed.Write(resolved, Model, row, seed, session.Softmax);
        long begin = Stopwatch.GetTimestamp();
        session.Run(input, seed, new float[outputs], gradient, 1);
        Count(1, Stopwatch.GetElapsedTime(begin));
        return score;
    }

    private sealed class PassProgress(IProgress<ExplanationProgress> progress, int total) : IProgress<int>
    {
        public void Report(int value) => progress.Report(new ExplanationProgress(value, total));
    }
}
