using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx;

/// <summary>Everything a <see cref="CamExplainer"/> is built with. Unset fields are found or defaulted.</summary>
public sealed record ExplainerOptions
{
    public ModelPreparationOptions Preparation { get; init; } = new();
    public InferenceOptions Inference { get; init; } = new();
    /// <summary>Preprocessing; by default the model's <c>NAME.preprocess.json</c> sidecar, else the paper's.</summary>
    public PreprocessOptions? Preprocess { get; init; }
    /// <summary>Class labels; by default the sidecar's labels file, if any.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>The method used when a call names none.</summary>
    public IExplanationMethod Method { get; init; } = new ScoreCamMethod();
    /// <summary>Images larger than this many pixels are refused before decoding.</summary>
    public long MaxImagePixels { get; init; } = ImageLoader.DefaultMaxPixels;
    /// <summary>
    /// Explain pictures as their files store the pixels, ignoring the EXIF orientation that viewers apply. By default
    /// a picture is turned upright as viewers show it before it is preprocessed.
    /// </summary>
    public bool KeepStoredOrientation { get; init; }
    /// <summary>
    /// Where warnings (a CUDA fallback, a model that runs one image at a time) and per-explanation diagnostics
    /// (passes, skipped channels, time; debug level) go, such as a service's own logs. Nothing is logged by default.
    /// </summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}
