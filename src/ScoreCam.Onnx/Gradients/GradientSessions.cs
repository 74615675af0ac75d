using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// The gradient sessions of one prepared model, created on first use with the explainer's inference options and
/// disposed with it: the head's (activations → logits, for the Grad-CAM family). Thread-safe.
/// </summary>
public sealed class GradientSessions : IDisposable
{
    private readonly PreparedModel _model;
    private readonly InferenceOptions _options;
    private readonly Lazy<GradientSession> _head;
    private bool _disposed;

    public GradientSessions(PreparedModel model, InferenceOptions options)
    {
        (_model, _options) = (model, options);
        _head = new Lazy<GradientSession>(() => Create(() => new GradientSession(_model, _options)), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The head's gradient graph: d Σ(seed ⊙ logits) / dA.</summary>
    public GradientSession Head => _head.Value;

    private GradientSession Create(Func<GradientSession> create)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return create();
    }

    public void Dispose()
    {
        _disposed = true;
        if (_head.IsValueCreated) _head.Value.Dispose();
    }
}
