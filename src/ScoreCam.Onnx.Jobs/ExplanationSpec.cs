using System.Text.Json;
using System.Text.Json.Serialization;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// Everything besides the picture and the method with its settings that shapes an explanation's JSON and pictures:
/// the model (by content key), how it is prepared, how pictures become its input, its labels, the target and the
/// picture style. A worker builds the same explainer and pipeline from it as a local run builds from its
/// options, so that results agree; its JSON is part of each result's key.
/// </summary>
public sealed record ExplanationSpec
{
    /// <summary>The SHA-256 of the model file's bytes; the submitter sets it when it uploads the model.</summary>
    public string ModelKey { get; init; } = "";
    public string? Layer { get; init; }
    public string? InputName { get; init; }
    public string? OutputName { get; init; }
    /// <summary>The size the model's layers are probed at when its input size is dynamic.</summary>
    public int ProbeHeight { get; init; } = 224;
    public int ProbeWidth { get; init; } = 224;
    /// <summary>Preprocessing as resolved by the submitter (its labels file already read into <see cref="Labels"/>).</summary>
    public required PreprocessOptions Preprocess { get; init; }
    public IReadOnlyList<string>? Labels { get; init; }
    public long MaxImagePixels { get; init; } = new ExplainerOptions().MaxImagePixels;
    public bool KeepStoredOrientation { get; init; }
    /// <summary>A class index or label; null: the top prediction.</summary>
    public string? Target { get; init; }
    public PictureStyle Style { get; init; } = PictureStyle.Default;
    public bool HeatmapValues { get; init; }

    public ModelPreparationOptions Preparation() => new()
    {
        Layer = Layer,
        InputName = InputName,
        OutputName = OutputName,
        ProbeSize = (ProbeHeight, ProbeWidth),
    };

    public ExplanationTarget ExplanationTarget() => Target is null ? Methods.ExplanationTarget.TopPrediction : Methods.ExplanationTarget.Parse(Target);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static ExplanationSpec FromJson(string json) => JsonSerializer.Deserialize<ExplanationSpec>(json, JsonOptions)
        ?? throw new JsonException("The explanation spec is empty.");

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
