using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Metrics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam evaluate</c>: the method × metric table over an annotated set (the library's
/// <see cref="EvaluationProtocol"/>). Writes <c>results.csv</c> (rewritten after every image and read back on the next
/// run with the same settings, so an interrupted run resumes), <c>summary.md</c> and <c>summary.json</c> (mean and 95%
/// interval per method and metric over the correctly classified rows; misclassified rows listed apart, each with
/// <c>misclassified/NAME-CLASS.png</c>: the picture and the first method's maps of the predicted and the true class,
/// listed in <c>misclassified.json</c>; paper section 5.5.1).
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var methodFlags = new MethodOptions();
        var set = new Option<string>("--set") { Description = "Annotated set: a folder with annotations.json and its pictures.", Required = true };
        var methods = new Option<string>("--method") { Description = $"Methods, comma-separated: any of {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam,rise" };
        var metrics = new Option<string?>("--metrics")
        {
            Description = $"Metrics, comma-separated: {string.Join(", ", EvaluationMetric.Known)}. Default: {string.Join(", ", EvaluationMetric.All)}, " +
                $"plus {EvaluationMetric.OtherClassesEnergy} when the set has images with several classes and {EvaluationMetric.WeakestBoxEnergy} when it has several objects of one class.",
        };
        var limit = new Option<int>("--limit") { Description = "Evaluate the first N images only (0: all).", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out-dir") { Description = "Output folder.", DefaultValueFactory = _ => "scorecam-eval" };
        var steps = new Option<int>("--deletion-steps") { Description = "Deletion / insertion steps.", DefaultValueFactory = _ => new CausalMetricOptions().Steps };
        var fresh = new Option<bool>("--fresh") { Description = "Ignore the results.csv of an earlier run in --out instead of resuming it." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress display." };

        var command = new Command("evaluate", "Score explanation methods with the paper's metrics over an annotated set.")
        {
            set, methods, metrics, limit, outDir, steps, fresh, quiet,
        };
        methodFlags.AddTo(command);
        model.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            if (r.GetValue(limit) < 0) throw new UsageException("--limit must not be negative.");
            if (r.GetValue(steps) is < 1 or > 10_000) throw new UsageException($"--deletion-steps must be between 1 and 10000; got {r.GetValue(steps)}.");
            string setFolder = r.GetValue(set)!;
            AnnotatedSet annotated = AnnotatedSet.Read(setFolder);
            IReadOnlyList<string> metricNames = r.GetValue(metrics) is { } named ? Split(named) : EvaluationProtocol.DefaultMetrics(annotated);
            foreach (string m in metricNames)
                if (!EvaluationMetric.Known.Contains(m)) throw new UsageException($"--metrics: unknown metric '{m}'; the metrics are {string.Join(", ", EvaluationMetric.Known)}.");
            MethodSettings settings = methodFlags.Settings(r);
            var protocol = new EvaluationProtocol(MethodOptions.CreateAll(r.GetValue(methods)!, settings), metricNames,
                new CausalMetricOptions { Steps = r.GetValue(steps) });

            var images = annotated.Images.Take(r.GetValue(limit) is > 0 and var n ? n : int.MaxValue).ToList();
            string folder = r.GetValue(outDir)!;
            Directory.CreateDirectory(folder);
            string csvPath = Path.Combine(folder, "results.csv");
            // Earlier rows hold only for the same model, preprocessing and method / metric settings.
            string settingsPath = Path.Combine(folder, "settings.txt");
            string fingerprint = Fingerprint(r, model, protocol.Methods, setFolder, protocol.Causal);
            bool sameSettings = File.Exists(settingsPath) && File.ReadAllText(settingsPath) == fingerprint;
            if (!sameSettings && !r.GetValue(fresh) && File.Exists(csvPath))
                error.WriteLine($"warning: {csvPath} was made with other settings; recomputing everything.");
            Dictionary<string, EvaluationRow> known = r.GetValue(fresh) || !sameSettings ? new() : EvaluationCsv.Read(csvPath);
            AtomicFile.Write(settingsPath, Encoding.UTF8.GetBytes(fingerprint));

            List<EvaluationRow> rows;
            List<Misclassified> misclassified;
            string modelName;
            IReadOnlyList<string>? labels;
            using (ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(quiet)))
            {
                using CamExplainer explainer = ExplainerFactory.Create(r, model, protocol.Methods[0], new WarningLogger(line => progress.WriteLine(error, line)),
                    out modelName);
                labels = explainer.Labels;
                progress.Begin(images.Count, "images", passesSpanItem: false);
                rows = protocol.Run(explainer, annotated, images, known,
                    (i, entry) =>
                    {
                        if (i > 0) progress.Completed();
                        progress.Next(entry.File);
                    },
                    done => EvaluationCsv.Write(csvPath, done), progress);
                misclassified = MisclassifiedMaps(explainer, annotated, rows, protocol.Methods[0], folder);
            }
            EvaluationCsv.Write(csvPath, rows);

            var methodNames = protocol.Methods.Select(m => m.Name).ToList();
            var summary = EvaluationProtocol.Summarize(rows, methodNames, metricNames);
            AtomicFile.Write(Path.Combine(folder, "summary.json"), JsonSerializer.SerializeToUtf8Bytes(
                summary.ToDictionary(m => m.Key, m => m.Value.ToDictionary(x => x.Key, x => new Dictionary<string, double?>
                {
                    ["mean"] = Finite(x.Value.Mean),
                    ["ci95"] = Finite(x.Value.Ci95),
                    ["count"] = x.Value.Count,   // the values averaged (correctly classified images; NaN left out)
                })), new JsonSerializerOptions { WriteIndented = true }));
            AtomicFile.Write(Path.Combine(folder, "misclassified.json"), JsonSerializer.SerializeToUtf8Bytes(misclassified,
                new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
            string markdown = Markdown(setFolder, modelName, rows, protocol.Methods, metricNames, summary, protocol.Causal, labels, misclassified);
            AtomicFile.Write(Path.Combine(folder, "summary.md"), Encoding.UTF8.GetBytes(markdown));

            foreach (string line in markdown.Split('\n').Where(l => l.StartsWith('|')).Take(2 + methodNames.Count))
                output.WriteLine(line);
            output.WriteLine($"results: {csvPath}");
            output.WriteLine($"summary: {Path.Combine(folder, "summary.md")}, {Path.Combine(folder, "summary.json")}");
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>A misclassified row's picture of maps (relative to the output folder).</summary>
    private sealed record Misclassified(string Image, int Class, int Predicted, string Method, string Picture);

    /// <summary>
    /// For each misclassified image and class: the picture, <paramref name="method"/>'s map of the predicted class and of
    /// the true class (one explanation call, so Score-CAM's masked passes serve both), side by side.
    /// </summary>
    private static List<Misclassified> MisclassifiedMaps(CamExplainer explainer, AnnotatedSet set, List<EvaluationRow> rows, IExplanationMethod method, string folder)
    {
        var written = new List<Misclassified>();
        foreach (EvaluationRow r in rows.Where(r => r.Method == method.Name && !r.Correct))
        {
            using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, r.Image));
            ImageTensor input = explainer.Preprocess(picture);
            var maps = explainer.ExplainTargets(input, new[] { ExplanationTarget.Class(r.Predicted), ExplanationTarget.Class(r.Class) }, method);
            string name = Path.Combine("misclassified", $"{Path.GetFileNameWithoutExtension(r.Image)}-{r.Class}.png");
            Directory.CreateDirectory(Path.Combine(folder, "misclassified"));
            using Image<Rgb24> grid = ExperimentFigures.Grid(new List<List<Image<Rgb24>>>
            {
                new()
                {
                    HeatmapRenderer.Enlarge(picture, ExperimentFigures.Tile),
                    HeatmapRenderer.Render(picture, maps[0].Heatmap, input.SourceRegion, ExperimentFigures.Style),
                    HeatmapRenderer.Render(picture, maps[1].Heatmap, input.SourceRegion, ExperimentFigures.Style),
                },
            });
            HeatmapRenderer.SavePng(grid, Path.Combine(folder, name));
            written.Add(new Misclassified(r.Image, r.Class, r.Predicted, method.Name, name.Replace('\\', '/')));
        }
        return written;
    }

    /// <summary>What earlier rows depend on: the model file, the set, the model and preprocessing flags, each method's declared settings and the deletion metric's.</summary>
    private static string Fingerprint(ParseResult r, ModelOptions model, IReadOnlyList<IExplanationMethod> methods, string set, CausalMetricOptions causal)
    {
        string? path = r.GetValue(model.Model);
        var file = path is not null && File.Exists(path) ? new FileInfo(path) : null;
        var parts = new List<string?>
        {
            $"model={(path is null ? "embedded" : Path.GetFullPath(path))} {file?.Length} {file?.LastWriteTimeUtc:O}",
            $"set={Path.GetFullPath(set)}",
        };
        foreach (var option in new Option<string?>[] { model.Layer, model.InputName, model.OutputName, model.Size, model.Resize, model.Mean, model.Std, model.Scale, model.Labels })
            parts.Add($"{option.Name}={r.GetValue(option)}");
        parts.Add($"--bgr={r.GetValue(model.Bgr)}");
        parts.Add($"{model.KeepOrientation.Name}={r.GetValue(model.KeepOrientation)}");
        foreach (IExplanationMethod method in methods)
            parts.Add($"{method.Name}: {string.Join(", ", method.Settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"))}");
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"causal={causal.Steps},{causal.BlurKernelSize},{causal.BlurSigma}"));
        return string.Join('\n', parts) + "\n";
    }

    private static string[] Split(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static string Markdown(string set, string modelName, IReadOnlyList<EvaluationRow> rows, IReadOnlyList<IExplanationMethod> methodList, IReadOnlyList<string> metrics,
        Dictionary<string, Dictionary<string, MeanInterval>> summary, CausalMetricOptions causal, IReadOnlyList<string>? labels,
        List<Misclassified> pictures)
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
                MeanInterval s = summary[m][metric];
                sb.Append(s.Count == 0 ? "–" : string.Create(inv, $"{s.Mean:0.000} ± {s.Ci95:0.000}")).Append(" | ");
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
