using System.Globalization;
using System.Text;
using ScoreCam.Onnx.Metrics;

namespace ScoreCam.Onnx.Output;

/// <summary>A segmenter's evaluation rows (<see cref="SegmentationEvaluation"/>) as CSV, and their per-method summary in Markdown.</summary>
public static class SegmentationEvaluationTables
{
    public const string Header = "image,item,class,method,score,energy_in_item,energy_other_items,assigned_share,passes,seconds";

    public static string Csv(IEnumerable<SegmentationRow> rows)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (SegmentationRow r in rows)
            text.Append(CultureInfo.InvariantCulture,
                $"{Quote(r.Image)},{r.Item},{r.ClassIndex},{r.Method},{r.Score:G6},{r.EnergyInItem:G6},{(r.EnergyOnOthers is { } o ? o.ToString("G6", CultureInfo.InvariantCulture) : "")},{r.AssignedShare:G6},{r.ForwardPasses},{r.Seconds:G4}\n");
        return text.ToString();
    }

    /// <summary>Per method: the mean and 95% interval of the energy in the item's pixels and on the other items, over all items and over the items the model found (half their pixels or more assigned to their class).</summary>
    public static string Markdown(string set, string modelName, IReadOnlyList<SegmentationRow> rows)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Segmentation evaluation: {modelName} on {set}\n\n");
        text.Append("Each annotated item's class summed over the item's own pixels is explained; energy pointing game (paper section 5.2.2) ");
        text.Append("on the item's pixels, and the share of the energy on the other items' pixels. Found: the model assigns half the item's pixels or more to its class.\n\n");
        text.Append("| method | items | found | energy in item | energy on other items | energy in item (found) | seconds per item |\n|---|---|---|---|---|---|---|\n");
        foreach (var group in rows.GroupBy(r => r.Method))
        {
            var all = group.ToList();
            var found = all.Where(r => r.AssignedShare >= 0.5f).ToList();
            string Cell(IEnumerable<double> values) => values.Any() is false ? "–" : Format(MeanInterval.Of(values));
            text.Append(CultureInfo.InvariantCulture,
                $"| {group.Key} | {all.Count} | {found.Count} | {Cell(all.Select(r => r.EnergyInItem))} | {Cell(all.Where(r => r.EnergyOnOthers is not null).Select(r => r.EnergyOnOthers!.Value))} | {Cell(found.Select(r => r.EnergyInItem))} | {all.Average(r => r.Seconds):0.###} |\n");
        }
        return text.ToString();
    }

    private static string Format(MeanInterval m) => string.Create(CultureInfo.InvariantCulture, $"{m.Mean:0.000} ± {m.Ci95:0.000}");

    private static string Quote(string s) => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
}
