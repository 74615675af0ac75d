using System.CommandLine;
using System.Text.Json;
using ScoreCam.Onnx.Cli.Reports;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Output;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam report</c>: explains pictures with one or several methods and writes one self-contained HTML page: per
/// picture the input, one overlay per method (and the attribution picture of pixel-space methods), the top
/// predictions and the target; for an annotated set, one entry per picture and annotated class with its boxes, and
/// with an evaluation's output folder, each entry's metrics and the summary table; with a reference class, each method's
/// counterfactual map (paper eq. 7) and its masked-input check. A picture that cannot be read or
/// explained is listed on the page and skipped; the exit code says so.
/// </summary>
internal static class ReportCommand
{
    public const int TopPredictions = 5;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var image = new Option<string[]>("--image")
        {
            Description = "Pictures: files, folders (the pictures in them) or globs such as 'photos/*.jpg' (quoted). Repeatable. Default: the embedded sample canvas.",
            AllowMultipleArgumentsPerToken = true,
        };
        var target = new Option<string?>("--target") { Description = "Class to explain: an index or a label. Default: each picture's top prediction." };
        var method = new Option<string>("--method") { Description = $"One or several, comma-separated: {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam,gradcam" };
        var methodFlags = new MethodOptions();
        var pictureFlags = new PictureOptions();
        var outHtml = new Option<string>("--out") { Description = $"HTML file to write. Default: {ExplainCommand.DefaultOutputFolder}/report.html.", DefaultValueFactory = _ => Path.Combine(ExplainCommand.DefaultOutputFolder, "report.html") };
        var set = new Option<string?>("--set") { Description = $"An annotated set (a folder with {AnnotatedSet.FileName}) instead of --image: each picture's annotated classes, with their boxes." };
        var evaluation = new Option<string?>("--evaluation") { Description = "The output folder of `scorecam evaluate` (summary.json, results.csv): its summary table and, with --set, each picture's metrics." };
        var limit = new Option<int>("--limit") { Description = "With --set: the first N pictures only (0: all), as evaluate's --limit.", DefaultValueFactory = _ => 0 };
        var versus = new Option<string?>("--versus")
        {
            Description = "Add each method's counterfactual map (paper eq. 7): why the target rather than this class (an index or a label; " +
                "no value: the most probable other class), with the probabilities on the input masked by 1 − the map.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var quiet = new Option<bool>("--quiet") { Description = "No progress display." };

        var detectionFlags = new DetectionOptions();
        var segmentation = new SegmentationOptions();
        var command = new Command("report", "Explain pictures with several methods and write one self-contained HTML page.") { image, set, evaluation, limit, target, versus, method, outHtml, quiet };
        methodFlags.AddTo(command);
        pictureFlags.AddTo(command, panel: false);
        detectionFlags.AddTo(command);
        segmentation.AddTo(command);
        model.AddTo(command);
        model.AddFeeds(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            List<IExplanationMethod> methods = MethodOptions.CreateChosen(r.GetValue(method)!, methodFlags.Settings(r));
            PictureStyle style = pictureFlags.Style(r);
            string[] imageValues = r.GetValue(image) ?? Array.Empty<string>();
            string? setFolder = r.GetValue(set);
            if (setFolder is not null && (imageValues.Length > 0 || r.GetValue(target) is not null))
                throw new UsageException("--set names the pictures and their classes; pass it without --image and --target.");
            if (r.GetValue(limit) < 0) throw new UsageException("--limit must not be negative.");
            Evaluation? evaluated = r.GetValue(evaluation) is { } evaluationFolder ? Evaluation.Read(evaluationFolder) : null;
            if (setFolder is not null && r.GetValue(segmentation.Region) is not null)
                throw new UsageException("--set names the pictures and their classes for a classifier; --region explains a segmenter's --target over a region of --image pictures.");
            if (r.GetValue(segmentation.Region) is not null && r.GetResult(versus) is not null)
                throw new UsageException("--region explains a segmenter's class over a region; --versus compares class probabilities, which a region's scores are not.");
            ExplanationTarget explanationTarget = segmentation.Target(r, r.GetValue(target)) is { } region ? region
                : r.GetValue(target) is { } t ? ExplanationTarget.Parse(t) : ExplanationTarget.TopPrediction;
            var counterfactual = new CounterfactualRequest(r.GetResult(versus) is not null, r.GetValue(versus) is { Length: > 0 } v ? ExplanationTarget.Parse(v) : null);
            List<Item> items = setFolder is not null ? Items(AnnotatedSet.Read(setFolder), r.GetValue(limit) is > 0 and var n ? n : int.MaxValue)
                : imageValues.Length > 0 ? ImageInputs.Expand(imageValues).Select(f => new Item(f, f, explanationTarget)).ToList()
                : new List<Item> { new(null, "sample", explanationTarget) };
            string path = r.GetValue(outHtml)!;

            using ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(quiet));
            using var warnings = new WarningLogger(line => progress.WriteLine(error, line), tally: items.Count > 1 || methods.Count > 1);
            using CamExplainer explainer = ExplainerFactory.Create(r, model, methods[0], warnings,
                out string modelName);

            var pipeline = new ExplanationPipeline(explainer, modelName) { Style = style, TopPredictions = TopPredictions };
            if (detectionFlags.Settings(r).Choose(explainer, r.GetValue(target)) is { } detector)
            {
                if (setFolder is not null || counterfactual.Asked || r.GetValue(segmentation.Region) is not null)
                    throw new UsageException("The model is a detector: the report explains each picture's detections (--detection, --box); --set, --versus and --region do not apply.");
                items = items.SelectMany(item => Detections(pipeline, item, detector)).ToList();
            }
            var entries = new List<ReportEntry>();
            var failures = new List<ReportFailure>();
            progress.Begin(items.Count * methods.Count, "explanations");
            foreach (Item item in items)
            {
                int completed = 0;
                try
                {
                    entries.Add(Entry(pipeline, item, methods, evaluated, counterfactual, progress, ref completed));
                }
                catch (ScoreCamException e)
                {
                    string message = LibraryTerms.Rephrase(e.Message);
                    failures.Add(new ReportFailure(item.Name, message));
                    progress.WriteLine(error, $"error: {item.Name}: {message}");
                    for (; completed < methods.Count; completed++) progress.Completed();
                }
            }
            HtmlReport.Write(path, new ReportPage($"Explanations: {string.Join(", ", methods.Select(m => m.Name))}", entries)
            {
                Subtitle = $"Model: {Path.GetFileName(modelName)}, target layer {explainer.Model.Layer}. Overlays: {style.Overlay.Colormap.ToString().ToLowerInvariant()} colormap (low to high), alpha {style.Overlay.Alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}.",
                Failures = failures,
                Summary = evaluated?.Summary,
            });
            progress.Dispose();
            output.WriteLine($"report: {path} ({Count(entries.Count, "picture")}, {Count(methods.Count, "method")}{(failures.Count > 0 ? $", {Count(failures.Count, "picture")} failed" : "")})");
            return failures.Count > 0 ? CliApp.InputError : CliApp.Ok;
        }));
        return command;
    }

    /// <summary>One item per detection of <paramref name="item"/>'s picture that <paramref name="detector"/> chooses, named by its suffix (d0, box).</summary>
    private static IEnumerable<Item> Detections(ExplanationPipeline pipeline, Item item, DetectorChoice detector)
    {
        using PictureInput input = item.File is null ? pipeline.Load(EmbeddedDefaults.SampleImage(), "sample") : pipeline.Load(item.File);
        return detector.Targets(input).Select(t => new Item(item.File, $"{item.Name} {t.Suffix}", t.Target)).ToList();
    }

    private static ReportEntry Entry(ExplanationPipeline pipeline, Item item, List<IExplanationMethod> methods,
        Evaluation? evaluated, CounterfactualRequest counterfactual, ProgressDisplay progress, ref int completed)
    {
        using PictureInput input = item.File is null ? pipeline.Load(EmbeddedDefaults.SampleImage(), "sample") : pipeline.Load(item.File);
        var request = new ExplanationRequest { Target = item.Target, Counterfactual = counterfactual.Asked, Versus = counterfactual.Versus };
        var maps = new List<ReportPicture>();
        var counterfactuals = new List<ReportPicture>();
        var checks = new List<ReportRow>();
        ReportScore? reference = null;
        ExplainedPicture? first = null;
        foreach (IExplanationMethod method in methods)
        {
            progress.Next($"{Path.GetFileNameWithoutExtension(item.Name)} {method.Name}");
            ExplainedPicture result = pipeline.Explain(input, method, request, progress);
            progress.Completed();
            completed++;
            first ??= result;
            RenderedPictures pictures = result.Pictures;
            if (result.Counterfactual is { } reasoning)
            {
                reference = Score(reasoning.ReferenceExplanation.Target);
                counterfactuals.Add(new ReportPicture($"{method.Name}: versus {reference.Name} (eq. 7)", pictures.OverlayPng, HeatmapScale(pipeline, pictures.OverlayPng)));
                CounterfactualCheck c = reasoning.Check;
                checks.Add(new ReportRow(method.Name, new ReportCell?[] { new(c.TargetOnInput), new(c.ReferenceOnInput), new(c.TargetOnMasked), new(c.ReferenceOnMasked) }));
                pictures = pipeline.Render(input, reasoning.TargetExplanation); // the page shows the target's own map too
            }
            maps.Add(new ReportPicture(method.Name, pictures.OverlayPng, HeatmapScale(pipeline, pictures.OverlayPng)));
            if (pictures.AttributionPng is { } attribution)
            {
                AttributionView view = pictures.AttributionView!.Value;
                Explanation drawn = result.Counterfactual?.TargetExplanation ?? result.Explanation;
                maps.Add(new ReportPicture($"{method.Name} ({view.ToString().ToLowerInvariant()})", attribution,
                    pipeline.Style.Overlay.ColorBar ? ColorScale.ForAttribution(attribution, drawn.Attribution!, view) : null));
            }
        }
        ReportScore[] top = (first!.Document.TopPredictions ?? Array.Empty<PredictionDocument>()).Select(p => new ReportScore(pipeline.Explainer.Labels is null ? null : p.Label, p.Index, p.Probability)).ToArray();
        Image<Rgb24> picture = input.Picture!;
        using Image<Rgb24> shown = HeatmapRenderer.Enlarge(picture, pipeline.Style.Overlay.MinShortSide);
        TargetInfo explained = (first.Counterfactual?.TargetExplanation ?? first.Explanation).Target;
        return new ReportEntry(item.Name, new ReportPicture("input", HeatmapRenderer.EncodePng(shown)), maps, top, Score(explained))
        {
            Counterfactuals = counterfactuals,
            CounterfactualCheck = reference is null ? null : new ReportTable(
                $"Counterfactual check (versus {reference.Name}): probabilities on the input and on the input masked by 1 − L_CE", "method", CheckColumns, checks),
            // Boxes are in the picture's pixels; overlays show the whole picture, so fractions of it fit every map.
            Boxes = item.Boxes.Select(b => new ReportBox((double)b.X0 / picture.Width, (double)b.Y0 / picture.Height,
                (double)b.Width / picture.Width, (double)b.Height / picture.Height)).ToArray(),
            Metrics = item.SetFile is not null && evaluated is not null ? evaluated.MetricsOf(item.SetFile, item.Class!.Value) : null,
        };
    }

    private static ColorScale? HeatmapScale(ExplanationPipeline pipeline, byte[] png) =>
        pipeline.Style.Overlay.ColorBar ? ColorScale.ForHeatmap(png) : null;

    private static readonly string[] CheckColumns = { "target on input", "reference on input", "target on masked input", "reference on masked input" };

    /// <summary>A class or a custom target with its score, as the page names it.</summary>
    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private static ReportScore Score(TargetInfo t) => new(t.Index is null ? t.Name : t.Label, t.Index, t.Score);

    /// <summary>Whether each method's counterfactual map is asked for, and against which class (null: the most probable other one).</summary>
    private sealed record CounterfactualRequest(bool Asked, ExplanationTarget? Versus);

    /// <summary>One entry to explain: a picture (null: the embedded sample), its target and, from an annotated set, its file, class and boxes.</summary>
    private sealed record Item(string? File, string Name, ExplanationTarget Target)
    {
        public string? SetFile { get; init; }
        public int? Class { get; init; }
        public IReadOnlyList<BoundingBox> Boxes { get; init; } = Array.Empty<BoundingBox>();
    }

    /// <summary>One item per picture and annotated class (a picture with two classes gives two entries), as evaluate explains them.</summary>
    private static List<Item> Items(AnnotatedSet set, int limit) =>
        set.Images.Take(limit).SelectMany(image =>
        {
            var classes = image.Items.GroupBy(i => i.ClassIndex).ToList();
            return classes.Select(c => new Item(Path.Combine(set.Folder, image.File),
                classes.Count == 1 ? image.File : $"{image.File} ({c.First().Label ?? $"class {c.Key}"})", ExplanationTarget.Class(c.Key))
            {
                SetFile = image.File,
                Class = c.Key,
                Boxes = c.Select(i => i.Box).ToArray(),
            });
        }).ToList();

    /// <summary>What <c>scorecam evaluate</c> wrote: the summary (summary.json) and the per-explanation rows (results.csv).</summary>
    private sealed record Evaluation(ReportTable Summary, IReadOnlyList<string> Metrics, IReadOnlyCollection<EvaluationRow> Rows)
    {
        public static Evaluation Read(string folder)
        {
            string rowsPath = Path.Combine(folder, EvaluationSummary.RowsFile);
            if (!File.Exists(rowsPath))
                throw new ScoreCamException($"'{folder}' holds no {EvaluationSummary.RowsFile}; name the --out-dir folder of a finished `scorecam evaluate`.");
            Dictionary<string, Dictionary<string, MetricSummary>> summary = EvaluationSummary.Read(folder);
            string[] metrics = summary.Values.SelectMany(m => m.Keys).Distinct().ToArray();
            var rows = summary.Select(m => new ReportRow(m.Key, metrics.Select(metric =>
                m.Value.TryGetValue(metric, out MetricSummary? v) && v.Mean is { } mean ? new ReportCell(mean, v.Ci95) : null).ToArray())).ToArray();
            return new Evaluation(new ReportTable("Evaluation summary: mean ± half-width of the 95% interval over the correctly classified images", "method", metrics, rows),
                metrics, EvaluationCsv.Read(rowsPath).Values);
        }

        /// <summary>The image's metrics for one class, one row per method evaluated; null when the evaluation has none for it.</summary>
        public ReportTable? MetricsOf(string image, int classIndex)
        {
            var mine = Rows.Where(r => r.Image == image && r.Class == classIndex).ToList();
            return mine.Count == 0 ? null : new ReportTable("Metrics (evaluate)", "method", Metrics,
                mine.Select(r => new ReportRow(r.Method, Metrics.Select(m => r.Metrics.TryGetValue(m, out double v) ? new ReportCell(v) : null).ToArray())).ToArray());
        }
    }
}
