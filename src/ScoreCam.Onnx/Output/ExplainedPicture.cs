using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// What the <see cref="ExplanationPipeline"/> makes of one input and method: the explanation, its pictures (PNG) and its
/// JSON document; with a counterfactual or an attack, those too.
/// </summary>
public sealed record ExplainedPicture(
    Explanation Explanation,
    ExplanationDocument Document,
    RenderedPictures Pictures,
    CounterfactualExplanation? Counterfactual = null,
    AdversarialExample? Attack = null)
{
    /// <summary>
    /// Writes the overlay (or panel) to <paramref name="overlayPath"/> and a pixel-space method's attribution picture
    /// beside it as NAME-VIEW.png, each atomically; returns the attribution picture's path, or null.
    /// </summary>
    public string? WritePictures(string overlayPath)
    {
        AtomicFile.Write(overlayPath, Pictures.OverlayPng);
        if (Pictures.AttributionPng is not { } attribution) return null;
        string path = AttributionPath(overlayPath);
        AtomicFile.Write(path, attribution);
        return path;
    }

    /// <summary>Where <see cref="WritePictures"/> puts the attribution picture beside <paramref name="overlayPath"/>; null without one.</summary>
    public string AttributionPath(string overlayPath) =>
        Path.Combine(Path.GetDirectoryName(overlayPath) ?? "", $"{Path.GetFileNameWithoutExtension(overlayPath)}-{ViewName(Pictures.AttributionView!.Value)}.png");

    internal static string ViewName(AttributionView view) => view.ToString().ToLowerInvariant();
}

/// <summary>An explanation drawn: the overlay (or panel) and, for pixel-space methods, the attribution picture and its view.</summary>
public sealed record RenderedPictures(byte[] OverlayPng, byte[]? AttributionPng, AttributionView? AttributionView);
