using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// The gradient sessions of one prepared model, created on first use with the explainer's inference options and
/// disposed with it: the head's (activations → logits, for the Grad-CAM family) and the input's (input → logits, for
/// pixel-space methods; one per input size and rule, plain or Guided Backpropagation), and the forward tail from the
/// target layer on (<see cref="TailSession"/>, for Ablation-CAM and Recipro-CAM). Thread-safe.
/// </summary>
public sealed class GradientSessions : IDisposable
{
    private readonly PreparedModel _model;
    private readonly InferenceOptions _options;
    private readonly ILogger _logger;
    private readonly Lazy<GradientSession> _head;
    private readonly Lazy<TailSession> _tail;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Height, int Width, bool Guided), Lazy<GradientSession>> _input = new();
    private bool _disposed;

    /// <param name="model">The prepared model whose graphs are differentiated.</param>
    /// <param name="options">Inference options of the gradient sessions.</param>
    /// <param name="logger">Receives each new session's warnings (a CUDA fallback) when it is created.</param>
    public GradientSessions(PreparedModel model, InferenceOptions options, ILogger? logger = null)
    {
        (_model, _options, _logger) = (model, options, logger ?? NullLogger.Instance);
        _head = new Lazy<GradientSession>(() => Create(() => GradientSession.ForHead(_model, _options)), LazyThreadSafetyMode.ExecutionAndPublication);
        _tail = new Lazy<TailSession>(() =>
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var tail = new TailSession(_model, _options);
            foreach (string warning in tail.Warnings) ExplainerLog.SessionWarning(_logger, warning);
            return tail;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The model from the target layer on: activations → output rows.</summary>
    internal TailSession Tail => _tail.Value;

    /// <summary>The head's gradient graph: d Σ(seed ⊙ logits) / dA.</summary>
    public GradientSession Head => _head.Value;

    /// <summary>The input's gradient graph for <paramref name="height"/>×<paramref name="width"/> inputs: d Σ(seed ⊙ logits) / dx.</summary>
    public GradientSession Input(int height, int width, bool guided) =>
        _input.GetOrAdd((height, width, guided), key => new Lazy<GradientSession>(
            () => Create(() => GradientSession.ForInput(_model, key.Height, key.Width, key.Guided, _options)), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>Warnings of the sessions created so far (a CUDA fallback), to show once.</summary>
    public IEnumerable<string> Warnings =>
        (_head.IsValueCreated ? _head.Value.Warnings : Enumerable.Empty<string>())
            .Concat(_input.Values.Where(l => l.IsValueCreated).SelectMany(l => l.Value.Warnings)).Distinct();

    private GradientSession Create(Func<GradientSession> create)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        GradientSession session = create();
        foreach (string warning in session.Warnings) ExplainerLog.SessionWarning(_logger, warning);
        return session;
    }

    public void Dispose()
    {
        _disposed = true;
        if (_head.IsValueCreated) _head.Value.Dispose();
        if (_tail.IsValueCreated) _tail.Value.Dispose();
        foreach (var session in _input.Values)
            if (session.IsValueCreated) session.Value.Dispose();
        _input.Clear();
    }
}
