using System.Globalization;
using System.Text;
using ScoreCam.Onnx.Experiments;

namespace ScoreCam.Onnx.Output;

/// <summary>The experiments' Markdown tables (robustness, weight stability, convergence), as NAME.md shows them.</summary>
internal static class ExperimentTables
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Epsilon(float e) => EpsilonText.Format(e);

    public static string Robustness(List<RobustnessRow> rows, List<float> steps)
    {
        var methods = rows.Select(r => r.Method).Distinct().ToList();
        var sb = new StringBuilder();
        sb.Append("| ε | still correct | true-class p | ").Append(string.Join(" | ", methods.Select(m => $"{m} peak shift | {m} EPG"))).Append(" |\n");
        sb.Append("|---|---|---|").Append(string.Concat(methods.Select(_ => "---|---|"))).Append('\n');
        foreach (float e in steps)
        {
            var mine = rows.Where(r => r.Epsilon == e).ToList();
            sb.Append(string.Create(Inv, $"| {Epsilon(e)} | {mine[0].StillCorrect:0.00} | {mine[0].TrueClassProbability:0.000} | "));
            sb.Append(string.Join(" | ", methods.Select(m => mine.Single(r => r.Method == m)).Select(r => string.Create(Inv, $"{r.PeakShift:0.0} | {r.EnergyInBox:0.000}"))));
            sb.Append(" |\n");
        }
        return sb.ToString();
    }

    public static string Stability(List<WeightStabilityRow> rows, List<float> steps, int channels)
    {
        var methods = rows.Select(r => r.Method).Distinct().ToList();
        var sb = new StringBuilder();
        sb.Append($"Channel weights of the {channels} channels; relative change ‖w(ε) − w(0)‖ / ‖w(0)‖, share of sign changes, variance over the steps 0..ε (/‖w(0)‖²).\n\n");
        sb.Append("| ε | ").Append(string.Join(" | ", methods.Select(m => $"{m} relative change | {m} sign changes | {m} variance"))).Append(" |\n");
        sb.Append("|---|").Append(string.Concat(methods.Select(_ => "---|---|---|"))).Append('\n');
        foreach (float e in steps)
        {
            sb.Append($"| {Epsilon(e)} | ");
            sb.Append(string.Join(" | ", methods.Select(m => rows.Single(r => r.Method == m && r.Epsilon == e))
                .Select(r => string.Create(Inv, $"{r.RelativeChange:0.000} | {r.SignChanges:0.000} | {r.Variance:0.0000}"))));
            sb.Append(" |\n");
        }
        double yMax = rows.Where(r => double.IsFinite(r.RelativeChange)).Select(r => r.RelativeChange).DefaultIfEmpty(0).Max();
        sb.Append(string.Create(Inv, $"\nThe figure: relative change (y, 0 to {(yMax > 0 ? yMax : 1):0.000}) against ε (x, 0 to {Epsilon(steps.Max())}; grey lines at the steps); "))
          .Append(string.Join(", ", methods.Select((m, i) => $"{ExperimentFigures.Palette[i % ExperimentFigures.Palette.Length].Name}: {m}"))).Append(".\n");
        return sb.ToString();
    }

    public static string Convergence(List<ConvergencePoint> points, string early, string method)
    {
        var sb = new StringBuilder();
        sb.Append($"{method} of the true class by `{Path.GetFileName(early)}` (early) and the final model; EPG: energy-based pointing game on the true box; ")
          .Append("outside: mean display heat outside the box.\n\n");
        sb.Append("| image | class | early predicted | final predicted | early EPG | final EPG | early outside | final outside |\n|---|---|---|---|---|---|---|---|\n");
        foreach (ConvergencePoint p in points)
            sb.Append(string.Create(Inv, $"| {p.Item.Image.File} | {p.Item.TrueClass} | {p.Early.Prediction.Index} | {p.Final.Prediction.Index} | {p.EarlyEnergy:0.000} | {p.FinalEnergy:0.000} | {p.EarlyOutside:0.000} | {p.FinalOutside:0.000} |\n"));
        sb.Append(string.Create(Inv, $"| mean ({points.Count}) | | {points.Average(p => p.Early.Prediction.Index == p.Item.TrueClass ? 1.0 : 0):0.00} correct | {points.Average(p => p.Final.Prediction.Index == p.Item.TrueClass ? 1.0 : 0):0.00} correct | "))
          .Append(string.Create(Inv, $"{points.Average(p => p.EarlyEnergy):0.000} | {points.Average(p => p.FinalEnergy):0.000} | {points.Average(p => p.EarlyOutside):0.000} | {points.Average(p => p.FinalOutside):0.000} |\n"));
        return sb.ToString();
    }
}
