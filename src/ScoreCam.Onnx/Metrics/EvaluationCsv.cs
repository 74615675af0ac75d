using System.Globalization;
using System.Text;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The evaluation's results.csv: one row per image, method and class; a metric's cell is "NaN" when it does not
/// apply and empty when it was not computed. Read back to resume an interrupted run (a damaged row is recomputed).
/// </summary>
public static class EvaluationCsv
{
    private static readonly string[] Fixed = { "image", "method", "class", "label", "predicted", "correct" };

    public static void Write(string path, IReadOnlyList<EvaluationRow> rows)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Fixed.Concat(EvaluationMetric.Known).Append("seconds"))).Append('\n');
        foreach (EvaluationRow row in rows)
        {
            sb.Append(Quote(row.Image)).Append(',').Append(Quote(row.Method)).Append(',').Append(row.Class.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(Quote(row.Label)).Append(',').Append(row.Predicted.ToString(CultureInfo.InvariantCulture)).Append(',').Append(row.Correct ? "true" : "false");
            foreach (string metric in EvaluationMetric.Known)
                sb.Append(',').Append(row.Metrics.TryGetValue(metric, out double v) ? Number(v) : "");
            sb.Append(',').Append(Number(row.Seconds)).Append('\n');
        }
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(sb.ToString()));
    }

    /// <summary>The rows of an earlier run by <see cref="EvaluationRow.Key"/>; empty when the file does not exist.</summary>
    public static Dictionary<string, EvaluationRow> Read(string path)
    {
        var rows = new Dictionary<string, EvaluationRow>();
        if (!File.Exists(path)) return rows;
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0) return rows;
        string[] header = ParseLine(lines[0]);
        foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
        {
            string[] f = ParseLine(line);
            if (f.Length != header.Length) continue;
            var field = header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => f[x.i]);
            try
            {
                var metrics = EvaluationMetric.Known.Where(m => field.TryGetValue(m, out string? v) && v.Length > 0)
                    .ToDictionary(m => m, m => double.Parse(field[m], CultureInfo.InvariantCulture));
                var row = new EvaluationRow(field["image"], field["method"], int.Parse(field["class"], CultureInfo.InvariantCulture), field["label"],
                    int.Parse(field["predicted"], CultureInfo.InvariantCulture), field["correct"] == "true", metrics,
                    double.Parse(field["seconds"], CultureInfo.InvariantCulture));
                rows[row.Key] = row;
            }
            catch (Exception e) when (e is FormatException or KeyNotFoundException or OverflowException)
            {
                // A damaged row is recomputed.
            }
        }
        return rows;
    }

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? $"\"{s.Replace("\"", "\"\"")}\"" : s;

    private static string[] ParseLine(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else current.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(ch);
        }
        fields.Add(current.ToString());
        return fields.ToArray();
    }
}
