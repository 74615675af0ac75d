using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// The explanation JSON: builds <see cref="ExplanationDocument"/>s from explanations, writes and reads them, and gives
/// their JSON Schema (docs/explanation.schema.json). Field names are camelCase; <c>schema_version</c> changes when a
/// field changes meaning or goes away (new optional fields keep the version).
/// </summary>
public static class ExplanationJson
{
    public const int SchemaVersion = 1;

    /// <summary>camelCase, indented, absent instead of null, and readable text (no \u0027 escapes of quotes).</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    /// <summary>The document of <paramref name="e"/>: everything but the pictures, which the pipeline adds.</summary>
    public static ExplanationDocument Document(Explanation e, string model, bool heatmapValues = false) => new()
    {
        Method = e.Method,
        Model = model,
        Layer = new LayerDocument(e.Layer.TensorName, e.Layer.Channels, e.Map.Height, e.Map.Width),
        Target = e.Target.Index is { } index
            ? new TargetDocument(index, e.Target.Label ?? e.Target.Name, Probability: e.Target.Score)
            : new TargetDocument(null, e.Target.Name, Score: e.Target.Score),
        Prediction = Of(e.Prediction),
        Map = new MapDocument(e.Map.Width, e.Map.Height, e.Map.Values),
        Weights = e.ChannelWeights,
        Heatmap = new MapDocument(e.Heatmap.Width, e.Heatmap.Height, heatmapValues ? e.Heatmap.Values : null),
        Attribution = e.Attribution is { } a ? new AttributionDocument(a.Channels, a.Height, a.Width, a.Values) : null,
        Extras = e.Extras is { Count: > 0 } extras ? extras : null,
        ForwardPasses = e.ForwardPasses,
        SkippedChannels = e.SkippedChannels,
        ElapsedMs = Math.Round(e.Elapsed.TotalMilliseconds, 1),
        Warnings = e.Warnings.Count > 0 ? e.Warnings : null,
    };

    public static PredictionDocument Of(Prediction p) => new(p.Index, p.Label, p.Probability);

    public static BatchDocument Of(BatchSizeChoice b) => new(b.BatchSize, b.Reason, b.BytesPerImage, b.BudgetBytes);

    public static CounterfactualDocument Of(CounterfactualExplanation e)
    {
        TargetInfo reference = e.ReferenceExplanation.Target;
        return new CounterfactualDocument(new ClassDocument(reference.Index!.Value, reference.Label),
            new ClassPairDocument(e.Check.TargetOnInput, e.Check.ReferenceOnInput), new ClassPairDocument(e.Check.TargetOnMasked, e.Check.ReferenceOnMasked));
    }

    public static AttackDocument Of(AdversarialExample a) =>
        new("fgsm", a.Epsilon, a.TargetClass, Of(a.Before), Of(a.After), a.TargetBefore, a.TargetAfter);

    public static byte[] Serialize<T>(T document) => JsonSerializer.SerializeToUtf8Bytes(document, Options);

    /// <summary>Reads a document back, strictly: an unknown field, a missing required one or a null where none may be is an error.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> json, string name)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new ScoreCamException($"'{name}' holds null, not an explanation.");
        }
        catch (JsonException e)
        {
            throw new ScoreCamException($"'{name}' is not explanation JSON of schema version {SchemaVersion}: {e.Message}");
        }
    }

    /// <summary>The JSON Schema of <typeparamref name="T"/> (an <see cref="ExplanationDocument"/> or an <see cref="ExplanationRunDocument"/>).</summary>
    public static JsonNode Schema<T>() => Options.GetJsonSchemaAsNode(typeof(T), new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true });
}
