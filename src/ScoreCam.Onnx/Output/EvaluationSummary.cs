using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Metrics;

namespace ScoreCam.Onnx.Output;

/// <summary>One metric of one method over an evaluation: the mean, the half-width of its 95% interval and how many values were averaged (null: none, or not finite).</summary>
public sealed record MetricSummary(double? Mean, double? Ci95, int Count);

/// <summary>A misclassified image and class of an evaluation, and the picture of its maps (relative to the output folder).</summary>
public sealed record MisclassifiedPicture(string Image, int Class, int Predicted, string Method, string Picture);

/// <summary>
/// What an evaluation writes besides its rows (results.csv, <see cref="EvaluationCsv"/>): summary.json (method → metric →
/// <see cref="MetricSummary"/>) and misclassified.json; written and read back through these types, by evaluate and report alike.
/// </summary>
public static class EvaluationSummary
{
    public const string SummaryFile = "summary.json", MisclassifiedFile = "misclassified.json", RowsFile = "results.csv";

    /// <summary>Means over the correctly classified rows (the paper's protocol), per method and metric.</summary>
    public static Dictionary<string, Dictionary<string, MetricSummary>> Of(IReadOnlyList<EvaluationRow> rows, IEnumerable<string> methods, IEnumerable<string> metrics) =>
        EvaluationProtocol.Summarize(rows, methods, metrics).ToDictionary(m => m.Key, m => m.Value.ToDictionary(x => x.Key,
            x => new MetricSummary(Finite(x.Value.Mean), Finite(x.Value.Ci95), x.Value.Count)));

    public static void Write(string folder, Dictionary<string, Dictionary<string, MetricSummary>> summary, IReadOnlyList<MisclassifiedPicture> misclassified)
    {
        AtomicFile.Write(Path.Combine(folder, SummaryFile), JsonSerializer.SerializeToUtf8Bytes(summary, Json));
        AtomicFile.Write(Path.Combine(folder, MisclassifiedFile), JsonSerializer.SerializeToUtf8Bytes(misclassified, Json));
    }

    /// <summary>An evaluation's summary.json; a folder without one, or another file, is refused saying what to name.</summary>
    public static Dictionary<string, Dictionary<string, MetricSummary>> Read(string folder)
    {
        string path = Path.Combine(folder, SummaryFile);
        if (!File.Exists(path))
            throw new ScoreCamException($"'{folder}' holds no {SummaryFile}; name the output folder of a finished evaluation.");
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, MetricSummary>>>(File.ReadAllBytes(path), Json)
                ?? throw new ScoreCamException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new ScoreCamException($"'{path}' is not the summary an evaluation writes: {e.Message}");
        }
    }

    private static readonly JsonSerializerOptions Json = new(ExplanationJson.Options) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
