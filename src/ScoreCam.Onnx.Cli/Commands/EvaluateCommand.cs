using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Output;
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
        var detectionFlags = new DetectionOptions();
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
        detectionFlags.AddScoringTo(command);
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
            // Options of methods not evaluated are allowed (the same flags over several runs); the output says where each went.
            List<string> reach = MethodOptions.Reach(settings, r.GetValue(methods)!).ToList();
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
            List<MisclassifiedPicture> misclassified;
            string modelName;
            IReadOnlyList<string>? labels;
            using (ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(quiet)))
            {
                using var warnings = new WarningLogger(line => progress.WriteLine(error, line), tally: true);
                using CamExplainer explainer = ExplainerFactory.Create(r, model, protocol.Methods[0], warnings,
                    out modelName);
                labels = explainer.Labels;
                DetectionSettings detection = detectionFlags.Settings(r);
                if (detection.Detector(explainer) is var (_, template))
                {
                    if (r.GetValue(metrics) is not null)
                        throw new UsageException("A detector's evaluation measures energy_in_box and energy_other_items per annotated item; leave out --metrics.");
                    int code = EvaluateDetections(explainer, annotated, images, protocol.Methods, template, detection.Confidence, detection.Iou, folder, setFolder, modelName, progress, output);
                    foreach (string line in reach) output.WriteLine(line);
                    return code;
                }
                // A segmenter scores one map per class ([C,H,W] or [H,W,C]): it is evaluated on each item's pixels.
                if (explainer.Model.OutputShape.Count == 3)
                {
                    if (r.GetValue(metrics) is not null)
                        throw new UsageException("A segmenter's evaluation measures energy_in_item and energy_other_items per annotated item; leave out --metrics.");
                    return EvaluateSegmentation(explainer, annotated, images, protocol.Methods, folder, setFolder, modelName, progress, output);
                }
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
            var summary = EvaluationSummary.Of(rows, methodNames, metricNames);
            EvaluationSummary.Write(folder, summary, misclassified);
            string markdown = EvaluationMarkdown.Write(setFolder, modelName, rows, protocol.Methods, metricNames, summary, protocol.Causal, labels, misclassified)
                + (reach.Count > 0 ? $"\n## Method options\n\n{string.Concat(reach.Select(l => $"- {l}\n"))}" : "");
            AtomicFile.Write(Path.Combine(folder, "summary.md"), Encoding.UTF8.GetBytes(markdown));

            foreach (string line in markdown.Split('\n').Where(l => l.StartsWith('|')).Take(2 + methodNames.Count))
                output.WriteLine(line);
            foreach (string line in reach) output.WriteLine(line);
            output.WriteLine($"results: {csvPath}");
            output.WriteLine($"summary: {Path.Combine(folder, "summary.md")}, {Path.Combine(folder, "summary.json")}");
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>
    /// A detector over the set: every annotated item's detection explained by every method, the energy pointing game in
    /// its own box and the share on the other items (<see cref="DetectionEvaluation"/>); detections.csv and summary.md.
    /// </summary>
    private static int EvaluateDetections(CamExplainer explainer, AnnotatedSet set, List<AnnotatedImage> images, IReadOnlyList<IExplanationMethod> methods,
        Methods.DetectionTarget template, float confidence, float iou, string folder, string setFolder, string modelName, ProgressDisplay progress, TextWriter output)
    {
        var evaluation = new DetectionEvaluation(methods, template) { Confidence = confidence, SuppressionIou = iou };
        return EvaluateItems(images, image => evaluation.Evaluate(explainer, set, image), "detections.csv", DetectionEvaluationTables.Csv,
            rows => DetectionEvaluationTables.Markdown(setFolder, modelName, rows), folder, progress, output);
    }

    /// <summary>
    /// A segmenter over the set: every annotated item's class over its own pixels explained by every method, the energy
    /// on its pixels and on the other items' (<see cref="SegmentationEvaluation"/>); segmentation.csv and summary.md.
    /// </summary>
    private static int EvaluateSegmentation(CamExplainer explainer, AnnotatedSet set, List<AnnotatedImage> images, IReadOnlyList<IExplanationMethod> methods,
        string folder, string setFolder, string modelName, ProgressDisplay progress, TextWriter output)
    {
        var evaluation = new SegmentationEvaluation(methods);
        return EvaluateItems(images, image => evaluation.Evaluate(explainer, set, image), "segmentation.csv", SegmentationEvaluationTables.Csv,
            rows => SegmentationEvaluationTables.Markdown(setFolder, modelName, rows), folder, progress, output);
    }

    /// <summary>Rows of every image with progress, then the CSV and summary.md written whole, and the summary's tables printed.</summary>
    private static int EvaluateItems<TRow>(List<AnnotatedImage> images, Func<AnnotatedImage, IEnumerable<TRow>> evaluate, string csvName,
        Func<List<TRow>, string> csvText, Func<List<TRow>, string> markdownText, string folder, ProgressDisplay progress, TextWriter output)
    {
        var rows = new List<TRow>();
        progress.Begin(images.Count, "images", passesSpanItem: false);
        foreach (AnnotatedImage image in images)
        {
            progress.Next(image.File);
            rows.AddRange(evaluate(image));
            progress.Completed();
        }
        progress.Dispose();
        string csv = Path.Combine(folder, csvName), summary = Path.Combine(folder, "summary.md");
        AtomicFile.Write(csv, Encoding.UTF8.GetBytes(csvText(rows)));
        string markdown = markdownText(rows);
        AtomicFile.Write(summary, Encoding.UTF8.GetBytes(markdown));
        foreach (string line in markdown.Split('\n').Where(l => l.StartsWith('|'))) output.WriteLine(line);
        output.WriteLine($"results: {csv}");
        output.WriteLine($"summary: {summary}");
        return CliApp.Ok;
    }

    /// <summary>
    /// For each misclassified image and class: the picture, <paramref name="method"/>'s map of the predicted class and of
    /// the true class (one explanation call, so Score-CAM's masked passes serve both), side by side.
    /// </summary>
    private static List<MisclassifiedPicture> MisclassifiedMaps(CamExplainer explainer, AnnotatedSet set, List<EvaluationRow> rows, IExplanationMethod method, string folder)
    {
        var written = new List<MisclassifiedPicture>();
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
            written.Add(new MisclassifiedPicture(r.Image, r.Class, r.Predicted, method.Name, name.Replace('\\', '/')));
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
}
