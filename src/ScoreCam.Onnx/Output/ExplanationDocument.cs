using System.Text.Json.Serialization;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// One explanation as JSON (schema <see cref="ExplanationJson.SchemaVersion"/>, docs/json.md): what the command line's
/// <c>--json</c> writes, each entry of a run's results.json and the answer of the HTTP service. Fields a producer has
/// no value for are left out.
/// </summary>
public sealed record ExplanationDocument
{
    [JsonPropertyName("schema_version")] public int SchemaVersion { get; init; } = ExplanationJson.SchemaVersion;
    /// <summary>The picture as it was named (a path, an upload's file name); absent for a tensor input.</summary>
    public string? Image { get; init; }
    public required string Method { get; init; }
    /// <summary>The method's declared options with the values it ran with (name → value).</summary>
    public IReadOnlyDictionary<string, string>? Settings { get; init; }
    public required string Model { get; init; }
    /// <summary>The EXIF orientation applied when the picture was loaded (1: stored upright or no tag).</summary>
    public int? Orientation { get; init; }
    public required LayerDocument Layer { get; init; }
    public required TargetDocument Target { get; init; }
    /// <summary>The model's answer: its top class; for a detection, the detection's class and confidence (<see cref="Detection"/>).</summary>
    public required PredictionDocument Prediction { get; init; }
    /// <summary>A detector's explained detection: its box, class and the detector's confidence.</summary>
    public DetectionDocument? Detection { get; init; }
    /// <summary>The most probable classes on the unmasked input, most probable first.</summary>
    public IReadOnlyList<PredictionDocument>? TopPredictions { get; init; }
    /// <summary>The method's map: CAM methods h×w after ReLU (eq. 5); pixel-space methods H×W after the channel reduction.</summary>
    public required MapDocument Map { get; init; }
    /// <summary>Channel weights of CAM methods; empty otherwise.</summary>
    public required float[] Weights { get; init; }
    /// <summary>The display heatmap's size (and values when asked for): the map min-max normalized, resized bilinearly, min-max normalized again.</summary>
    public required MapDocument Heatmap { get; init; }
    public AttributionDocument? Attribution { get; init; }
    public IReadOnlyDictionary<string, double>? Extras { get; init; }
    public required int ForwardPasses { get; init; }
    public required int SkippedChannels { get; init; }
    /// <summary>The batch size it ran at; a run states it once for all its explanations instead.</summary>
    public BatchDocument? Batch { get; init; }
    public required double ElapsedMs { get; init; }
    /// <summary>In a run: the file name of the overlay (or panel) PNG beside results.json.</summary>
    public string? Overlay { get; init; }
    /// <summary>In a run: the file name of a pixel-space method's attribution PNG.</summary>
    public string? AttributionPicture { get; init; }
    /// <summary>From the HTTP service: the overlay (or panel) PNG itself, base64.</summary>
    public byte[]? OverlayPng { get; init; }
    /// <summary>The view the attribution picture is drawn in (magnitude, signed, rgb), with <see cref="AttributionPicture"/> or <see cref="AttributionPng"/>.</summary>
    public string? AttributionView { get; init; }
    /// <summary>From the HTTP service: the attribution PNG itself, base64.</summary>
    public byte[]? AttributionPng { get; init; }
    public CounterfactualDocument? Counterfactual { get; init; }
    public AttackDocument? Attack { get; init; }
    /// <summary>What is wrong with a result that shows nothing (a constant map) and what to try.</summary>
    public IReadOnlyList<string>? Warnings { get; init; }
}

public sealed record LayerDocument(string Name, int Channels, int Height, int Width);

/// <summary>A class (index, label, probability) or a custom target (label, score).</summary>
public sealed record TargetDocument([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? Index, string Label, float? Probability = null, float? Score = null);

public sealed record PredictionDocument(int Index, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Label, float Probability);

/// <summary>
/// A detection: its box x0, y0, x1, y1 in input pixels, its class, and the detector's confidence in that class at the
/// proposal overlapping the box most on the unmasked input (the detection's own confidence for the model's detections).
/// </summary>
public sealed record DetectionDocument(float[] Box, int Index, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Label, float Confidence);

public sealed record MapDocument(int Width, int Height, float[]? Values = null);

/// <summary>The signed C×H×W attribution of a pixel-space method, before any reduction over channels.</summary>
public sealed record AttributionDocument(int Channels, int Height, int Width, float[] Values);

/// <summary>The batch size of the batched passes, why it was taken and the memory estimate behind it.</summary>
public sealed record BatchDocument(int Size, string Reason, long IntermediateBytesPerImage, long BudgetBytes);

/// <summary>The counterfactual's reference class and the paper's check: probabilities on the input and on the input masked by 1 − L_CE (eq. 7).</summary>
public sealed record CounterfactualDocument(ClassDocument Reference, ClassPairDocument Input, ClassPairDocument Masked);

public sealed record ClassPairDocument(float Target, float Reference);

public sealed record ClassDocument(int Index, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Label);

/// <summary>An FGSM attack (paper section 5.4): its step, the attacked class and the prediction before and after.</summary>
public sealed record AttackDocument(string Method, float Epsilon, int TargetClass, PredictionDocument Before, PredictionDocument After,
    float TargetProbabilityBefore, float TargetProbabilityAfter);

/// <summary>A run's results.json: the explanations of several pictures and methods, and what could not be explained.</summary>
public sealed record ExplanationRunDocument
{
    [JsonPropertyName("schema_version")] public int SchemaVersion { get; init; } = ExplanationJson.SchemaVersion;
    public required string Model { get; init; }
    public required BatchDocument Batch { get; init; }
    public required IReadOnlyList<ExplanationDocument> Explanations { get; init; }
    public required IReadOnlyList<FailureDocument> Failed { get; init; }
}

/// <summary>A picture (method null: it could not be read) or a picture and method that could not be explained, and why.</summary>
public sealed record FailureDocument(string Image, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Method, string Error);
