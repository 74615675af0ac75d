using System.Globalization;
using System.Text;
using ScoreCam.Onnx.Metrics;

namespace ScoreCam.Onnx.Output;

/// <summary>A detector's evaluation rows (<see cref="DetectionEvaluation"/>) as CSV, and their per-method summary in Markdown.</summary>
public static class DetectionEvaluationTables
{
    public const string Header = "image,item,class,method,score,energy_in_box,energy_other_items,detected_iou,passes,seconds";

    public static string Csv(IEnumerable<DetectionRow> rows)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (DetectionRow r in rows)
            text.Append(CultureInfo.InvariantCulture,
                $"{Quote(r.Image)},{r.Item},{r.ClassIndex},{r.Method},{r.Score:G6},{r.EnergyInBox:G6},{(r.EnergyOnOthers is { } o ? o.ToString("G6", CultureInfo.InvariantCulture) : "")},{r.DetectedIou:G6},{r.ForwardPasses},{r.Seconds:G4}\n");
        return text.ToString();
    }

    /// <summary>Per method: the mean and 95% interval of the energy in the item's box and on the other items, over all items and over the items the model found (IoU ≥ 0.5).</summary>
    public static string Markdown(string set, string modelName, IReadOnlyList<DetectionRow> rows)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Detection evaluation: {modelName} on {set}\n\n");
        text.Append("Each annotated item's detection (its box and class as the reference) is explained; energy pointing game (paper section 5.1.2) ");
        text.Append("inside the item's own box, and the share of the energy on the other items' boxes. Found: the model detects the item's class with IoU ≥ 0.5.\n\n");
        text.Append("| method | items | found | energy in box | energy on other items | energy in box (found) | seconds per item |\n|---|---|---|---|---|---|---|\n");
        foreach (var group in rows.GroupBy(r => r.Method))
        {
            var all = group.ToList();
            var found = all.Where(r => r.DetectedIou >= 0.5f).ToList();
            string Cell(IEnumerable<double> values) => values.Any() is false ? "–" : Format(MeanInterval.Of(values));
            text.Append(CultureInfo.InvariantCulture,
                $"| {group.Key} | {all.Count} | {found.Count} | {Cell(all.Select(r => r.EnergyInBox))} | {Cell(all.Where(r => r.EnergyOnOthers is not null).Select(r => r.EnergyOnOthers!.Value))} | {Cell(found.Select(r => r.EnergyInBox))} | {all.Average(r => r.Seconds):0.###} |\n");
        }
        return text.ToString();
    }

    private static string Format(MeanInterval m) => string.Create(CultureInfo.InvariantCulture, $"{m.Mean:0.000} ± {m.Ci95:0.000}");

    private static string Quote(string s) => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
}
