using System.Globalization;
using System.Text;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;

namespace ScoreCam.Onnx.Output;

/// <summary>An evaluation's summary.md: the method × metric table of the paper's protocol (means over the correctly classified images) and the misclassified images apart.</summary>
public static class EvaluationMarkdown
{
    /// <summary>The page for <paramref name="rows"/> of the evaluation of <paramref name="set"/> with <paramref name="modelName"/>.</summary>
    public static string Write(string set, string modelName, IReadOnlyList<EvaluationRow> rows, IReadOnlyList<IExplanationMethod> methodList, IReadOnlyList<string> metrics,
        Dictionary<string, Dictionary<string, MetricSummary>> summary, CausalMetricOptions causal, IReadOnlyList<string>? labels,
        IReadOnlyList<MisclassifiedPicture> pictures)
    {
        List<string> methods = methodList.Select(m => m.Name).ToList();
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        int explanations = rows.Count(r => r.Method == methods[0]), correct = rows.Count(r => r.Method == methods[0] && r.Correct);
        sb.Append($"# Evaluation of {Path.GetFileName(Path.TrimEndingDirectorySeparator(set))}\n\n");
        sb.Append($"Model `{Path.GetFileName(modelName)}`, set `{set}`: {rows.Select(r => r.Image).Distinct().Count()} images, {explanations} explained classes, ")
          .Append($"{correct} correctly classified (the means below), {explanations - correct} misclassified (listed apart).\n");
        foreach (IExplanationMethod m in methodList.Where(m => m.Settings.Count > 0))
            sb.Append($"{m.Name}: {string.Join(", ", m.Settings.Select(x => $"{x.Key} = {x.Value}"))}. ");
        sb.Append(string.Create(inv, $"Deletion / insertion: {causal.Steps} steps, baseline 0 (the mean colour), insertion from a {causal.BlurKernelSize}×{causal.BlurKernelSize} Gaussian blur (σ = {causal.BlurSigma}).\n"));
        sb.Append("Scores are softmax probabilities. Each cell: mean ± half-width of the 95% confidence interval (1.96·s/√n). ")
          .Append("pointing_game is the hit rate (15-pixel tolerance, in input pixels); average_drop and increase_in_confidence are in percent.");
        if (metrics.Contains(EvaluationMetric.OtherClassesEnergy))
            sb.Append($" {EvaluationMetric.OtherClassesEnergy}: energy share in the other classes' boxes (lower is better; images with one class left out).");
        if (metrics.Contains(EvaluationMetric.WeakestBoxEnergy))
            sb.Append($" {EvaluationMetric.WeakestBoxEnergy}: the smallest energy share of one of the class's boxes (both objects found: higher).");
        sb.Append("\n\n");
        sb.Append("| method | n | ").Append(string.Join(" | ", metrics)).Append(" | seconds / explanation |\n");
        sb.Append("|---|---|").Append(string.Concat(metrics.Select(_ => "---|"))).Append("---|\n");
        foreach (string m in methods)
        {
            var mine = rows.Where(r => r.Method == m).ToList();
            sb.Append($"| {m} | {mine.Count(r => r.Correct)} | ");
            foreach (string metric in metrics)
            {
                MetricSummary s = summary[m][metric];
                sb.Append(s.Mean is not { } mean ? "–" : string.Create(inv, $"{mean:0.000} ± {s.Ci95:0.000}")).Append(" | ");
            }
            sb.Append(mine.Count == 0 ? "–" : mine.Average(r => r.Seconds).ToString("0.000", inv)).Append(" |\n");
        }
        var wrong = rows.Where(r => r.Method == methods[0] && !r.Correct).ToList();
        sb.Append("\n## Misclassified\n\n");
        if (wrong.Count == 0) sb.Append("None.\n");
        else
        {
            sb.Append($"Maps: the picture, then {methods[0]} for the predicted class and for the true class.\n\n");
            sb.Append("| image | class | predicted | maps |\n|---|---|---|---|\n");
            foreach (EvaluationRow r in wrong)
            {
                string predicted = labels is not null && r.Predicted < labels.Count ? $"{labels[r.Predicted]} [{r.Predicted}]" : r.Predicted.ToString(inv);
                string maps = pictures.FirstOrDefault(p => p.Image == r.Image && p.Class == r.Class) is { } p ? $"[{p.Picture}]({p.Picture})" : "–";
                sb.Append($"| {r.Image} | {(r.Label.Length > 0 ? $"{r.Label} [{r.Class}]" : r.Class.ToString(inv))} | {predicted} | {maps} |\n");
            }
        }
        return sb.ToString();
    }
}
