using System.Collections.Concurrent;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The common base of the gradient methods (Grad-CAM and its family): it runs the model's gradient graph
/// (<see cref="GradientSession"/>) once per target on the unmasked activations, seeded one-hot on the target's
/// class score (before the softmax, also for a model that outputs probabilities), and turns activations and gradients into
/// channel weights. A custom scalar target is seeded with its gradient with respect to the output row, by central
/// differences. The gradient session is created on first use per model and kept until <see cref="Dispose"/>.
/// </summary>
public abstract class GradientCamMethod : CamMethod, IDisposable
{
    private readonly ConcurrentDictionary<PreparedModel, Lazy<GradientSession>> _sessions = new();

    /// <summary>Weights w_k for one target from the activations A (K×h×w) and their gradients dY/dA (K×h×w).</summary>
    protected abstract float[] Weights(CamContext context, ReadOnlySpan<float> gradients);

    public override float[][] ChannelWeights(CamContext context)
    {
        GradientSession session = SessionFor(context);
        var weights = new float[context.Targets.Count][];
        var gradients = new float[context.Targets.Count][];
        var seed = new float[context.Session.Model.OutputSize];
        for (int t = 0; t < context.Targets.Count; t++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            Seed(context.Targets[t], context.UnmaskedScores, seed, session.PreSoftmax);
            gradients[t] = session.Run(context.Activations, seed).Gradients;
            weights[t] = Weights(context, gradients[t]);
        }
        Remember(context, gradients);
        return weights;
    }

    /// <summary>Lets a method whose map needs the gradients themselves (LayerCAM) keep them for <see cref="CamMethod.CombineMaps"/>.</summary>
    protected virtual void Remember(CamContext context, float[][] gradients) { }

    /// <summary>
    /// The gradient of the target's scalar with respect to the graph's logits: one-hot for a class (its pre-softmax
    /// score). A custom score of the output row is differentiated numerically; when the row holds probabilities and
    /// the graph's logits are the Softmax's input, through the Softmax: s_logits = p ⊙ (s − ⟨s, p⟩).
    /// </summary>
    internal static void Seed(ResolvedTarget target, float[] row, Span<float> seed, bool preSoftmax = false)
    {
        seed.Clear();
        if (target.ClassIndex is { } c)
        {
            seed[c] = 1f;
            return;
        }
        var probe = (float[])row.Clone();
        var none = Array.Empty<float>();
        // The score is a float: a step of 1% of the row's largest entry keeps its rounding (ulp / 2h) far below the
        // gradient while the central difference's O(h²) error stays small for smooth scores (cosine similarity).
        float h = 1e-2f * Math.Max(1e-3f, System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row));
        for (int j = 0; j < row.Length; j++)
        {
            probe[j] = row[j] + h;
            double up = target.Score(probe, none, ScoreMode.RawScore);
            probe[j] = row[j] - h;
            double down = target.Score(probe, none, ScoreMode.RawScore);
            probe[j] = row[j];
            seed[j] = (float)((up - down) / ((double)(row[j] + h) - (row[j] - h)));
        }
        if (!preSoftmax) return;
        double dot = 0;
        for (int j = 0; j < row.Length; j++) dot += (double)seed[j] * row[j];
        for (int j = 0; j < row.Length; j++) seed[j] = (float)(row[j] * (seed[j] - dot));
    }

    private GradientSession SessionFor(CamContext context)
    {
        ModelSession model = context.Session;
        return _sessions.GetOrAdd(model.Model, m => new Lazy<GradientSession>(
            () => new GradientSession(m, new InferenceOptions { Device = model.Device }))).Value;
    }

    public void Dispose()
    {
        foreach (var session in _sessions.Values)
            if (session.IsValueCreated) session.Value.Dispose();
        _sessions.Clear();
        GC.SuppressFinalize(this);
    }
}
