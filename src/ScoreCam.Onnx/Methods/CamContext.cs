using ScoreCam.Onnx.Inference;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// What a method sees when it computes channel weights: the input, the target layer's activations (K×h×w) from
/// the unmasked forward pass, the targets, and the session to run further passes on. One per explanation call.
/// </summary>
public sealed class CamContext
{
    internal CamContext(ModelSession session, ImageTensor image, float[] unmaskedScores, float[] activations, int channels, int height, int width,
        IReadOnlyList<ResolvedTarget> targets, IProgress<ExplanationProgress>? progress, CancellationToken cancellationToken)
    {
        (Session, Image, UnmaskedScores, Activations, Channels, Height, Width, Targets, Progress, CancellationToken) =
            (session, image, unmaskedScores, activations, channels, height, width, targets, progress, cancellationToken);
        Scorer = new TargetScorer(targets, session.Model.OutputKind, session.Model.OutputSize);
    }

    public ModelSession Session { get; }
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
    public IProgress<ExplanationProgress>? Progress { get; }
    public CancellationToken CancellationToken { get; }

    /// <summary>Forward passes the method ran beyond the unmasked one; methods add to it.</summary>
    public int ForwardPasses { get; set; }

    /// <summary>Channels the method left out (constant maps); methods add to it.</summary>
    public int SkippedChannels { get; set; }

    /// <summary>Time spent inside ONNX Runtime on the method's passes.</summary>
    public TimeSpan InferenceTime => TimeSpan.FromTicks(Interlocked.Read(ref _inferenceTicks));

    private long _inferenceTicks;

    /// <summary>Runs <paramref name="inference"/> and adds its duration to <see cref="InferenceTime"/>.</summary>
    public void TimeInference(Action inference)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        inference();
        Interlocked.Add(ref _inferenceTicks, System.Diagnostics.Stopwatch.GetElapsedTime(start).Ticks);
    }

    public ReadOnlySpan<float> ActivationMap(int k) => Activations.AsSpan(k * Height * Width, Height * Width);
}

/// <summary>Progress of a long explanation, in forward passes.</summary>
public readonly record struct ExplanationProgress(int Done, int Total);
