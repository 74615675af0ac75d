using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The JSON form of an explanation: the file `scorecam explain --json` writes, each entry of a run's results.json
/// (with the picture and overlay beside it) and the answer of `scorecam serve` (with the overlay itself).
/// </summary>
internal static class ExplanationJson
{
    public static byte[] Serialize(Explanation e, string model, BatchSizeChoice batch, Action<Utf8JsonWriter>? extra = null, bool heatmapValues = false)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true })) Write(w, e, model, extra, batch, heatmapValues);
        return buffer.ToArray();
    }

    /// <summary>
    /// Writes one explanation object; <paramref name="extra"/> adds fields of its own first, <paramref name="batch"/>
    /// the batch size it ran at (a run states it once for all its explanations instead); <paramref name="heatmapValues"/>
    /// adds the display heatmap's values at the input size (large: H×W numbers).
    /// </summary>
    public static void Write(Utf8JsonWriter w, Explanation e, string model, Action<Utf8JsonWriter>? extra = null, BatchSizeChoice? batch = null,
        bool heatmapValues = false)
    {
        w.WriteStartObject();
        extra?.Invoke(w);
        w.WriteString("method", e.Method);
        w.WriteString("model", model);
        w.WriteStartObject("layer");
        w.WriteString("name", e.Layer.TensorName);
        w.WriteNumber("channels", e.Layer.Channels);
        w.WriteNumber("height", e.Map.Height);
        w.WriteNumber("width", e.Map.Width);
        w.WriteEndObject();
        w.WriteStartObject("target");
        if (e.Target.Index is { } index) w.WriteNumber("index", index); else w.WriteNull("index");
        w.WriteString("label", e.Target.Label ?? e.Target.Name);
        w.WriteNumber(e.Target.Index is null ? "score" : "probability", e.Target.Score);
        w.WriteEndObject();
        w.WriteStartObject("prediction");
        w.WriteNumber("index", e.Prediction.Index);
        w.WriteString("label", e.Prediction.Label);
        w.WriteNumber("probability", e.Prediction.Probability);
        w.WriteEndObject();
        WriteMap(w, "map", e.Map, withValues: true);
        w.WriteStartArray("weights");
        foreach (float v in e.ChannelWeights) w.WriteNumberValue(v);
        w.WriteEndArray();
        WriteMap(w, "heatmap", e.Heatmap, withValues: heatmapValues);
        if (e.Attribution is { } a)
        {
            // The signed C×H×W attribution of a pixel-space method, before any reduction over channels.
            w.WriteStartObject("attribution");
            w.WriteNumber("channels", a.Channels);
            w.WriteNumber("height", a.Height);
            w.WriteNumber("width", a.Width);
            w.WriteStartArray("values");
            foreach (float v in a.Values) w.WriteNumberValue(v);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        if (e.Extras is { Count: > 0 } extras)
        {
            w.WriteStartObject("extras");
            foreach (var (key, value) in extras) w.WriteNumber(key, value);
            w.WriteEndObject();
        }
        w.WriteNumber("forwardPasses", e.ForwardPasses);
        w.WriteNumber("skippedChannels", e.SkippedChannels);
        if (batch is not null) WriteBatch(w, batch);
        w.WriteNumber("elapsedMs", Math.Round(e.Elapsed.TotalMilliseconds, 1));
        w.WriteEndObject();
    }

    /// <summary>The batch size of the batched passes, why it was taken and the memory estimate behind it.</summary>
    public static void WriteBatch(Utf8JsonWriter w, BatchSizeChoice batch)
    {
        w.WriteStartObject("batch");
        w.WriteNumber("size", batch.BatchSize);
        w.WriteString("reason", batch.Reason);
        w.WriteNumber("intermediateBytesPerImage", batch.BytesPerImage);
        w.WriteNumber("budgetBytes", batch.BudgetBytes);
        w.WriteEndObject();
    }

    /// <summary>The counterfactual's reference class and the paper's check (probabilities on the input and on the input masked by 1 − L_CE).</summary>
    public static void WriteCounterfactual(Utf8JsonWriter w, CounterfactualExplanation e)
    {
        TargetInfo reference = e.ReferenceExplanation.Target;
        w.WriteStartObject("counterfactual");
        w.WriteStartObject("reference");
        w.WriteNumber("index", reference.Index!.Value);
        if (reference.Label is { } label) w.WriteString("label", label); else w.WriteNull("label");
        w.WriteEndObject();
        w.WriteStartObject("input");
        w.WriteNumber("target", e.Check.TargetOnInput);
        w.WriteNumber("reference", e.Check.ReferenceOnInput);
        w.WriteEndObject();
        w.WriteStartObject("masked");
        w.WriteNumber("target", e.Check.TargetOnMasked);
        w.WriteNumber("reference", e.Check.ReferenceOnMasked);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteMap(Utf8JsonWriter w, string name, SaliencyMap map, bool withValues)
    {
        w.WriteStartObject(name);
        w.WriteNumber("width", map.Width);
        w.WriteNumber("height", map.Height);
        if (withValues)
        {
            w.WriteStartArray("values");
            foreach (float v in map.Values) w.WriteNumberValue(v);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
