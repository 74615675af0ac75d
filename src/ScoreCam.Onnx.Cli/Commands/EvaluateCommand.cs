using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam evaluate</c>: the method × metric table over an annotated set. Each image is explained for each of its
/// annotated classes by each method; the metrics use that class's boxes (mapped to input pixels). Writes
/// <c>results.csv</c> (one row per image, class and method; rewritten after every image, and read back on the next
/// run so an interrupted run resumes), <c>summary.md</c> and <c>summary.json</c> (mean and 95% interval per method and
/// metric over the correctly classified rows). A row is correctly classified when its class is among the model's
/// top-m predictions, m the number of distinct classes annotated in the image (top-1 for single-object images);
/// misclassified rows stay in the CSV and are listed apart in the summary, not in its means.
/// </summary>
internal static class EvaluateCommand
{
    private static readonly string[] Fixed = { "image", "method", "class", "label", "predicted", "correct" };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var set = new Option<string>("--set") { Description = "Annotated set: a folder with annotations.json and its pictures.", Required = true };
        var methods = new Option<string>("--methods") { Description = $"Methods, comma-separated: rise or any of {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam,rise" };
        var metrics = new Option<string?>("--metrics")
        {
            Description = $"Metrics, comma-separated: {string.Join(", ", EvaluationMetric.Known)}. Default: {string.Join(", ", EvaluationMetric.All)}, " +
                $"plus {EvaluationMetric.OtherClassesEnergy} when the set has images with several classes and {EvaluationMetric.WeakestBoxEnergy} when it has several objects of one class.",
        };
        var limit = new Option<int>("--limit") { Description = "Evaluate the first N images only (0: all).", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "scorecam-eval" };
        var batch = new Option<int>("--batch") { Description = "Masked images per ONNX Runtime call.", DefaultValueFactory = _ => new ScoreCamOptions().BatchSize };
        var riseMasks = new Option<int>("--rise-masks") { Description = "RISE's number of masks N.", DefaultValueFactory = _ => new RiseOptions().Masks };
        var seed = new Option<int>("--seed") { Description = "RISE's random seed.", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "Deletion / insertion steps.", DefaultValueFactory = _ => new CausalMetricOptions().Steps };
        var fresh = new Option<bool>("--fresh") { Description = "Ignore the results.csv of an earlier run in --out instead of resuming it." };

        var command = new Command("evaluate", "Score explanation methods with the paper's metrics over an annotated set.")
        {
            set, methods, metrics, limit, outDir, batch, riseMasks, seed, steps, fresh,
        };
        model.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            int batchSize = r.GetValue(batch);
            if (batchSize < 1) throw new UsageException($"--batch must be at least 1; got {batchSize}.");
            if (r.GetValue(limit) < 0) throw new UsageException("--limit must not be negative.");
            if (r.GetValue(riseMasks) < 1) throw new UsageException("--rise-masks must be at least 1.");
            if (r.GetValue(steps) < 1) throw new UsageException("--steps must be at least 1.");
            string setFolder = r.GetValue(set)!;
            AnnotatedSet annotated = AnnotatedSet.Read(setFolder);
            string[] metricNames = r.GetValue(metrics) is { } named ? Split(named) : DefaultMetrics(annotated);
            foreach (string m in metricNames)
                if (!EvaluationMetric.Known.Contains(m)) throw new UsageException($"--metrics: unknown metric '{m}'; the metrics are {string.Join(", ", EvaluationMetric.Known)}.");
            var settings = new MethodSettings(batchSize, "paper", "normalized", "probability");
            var riseOptions = new RiseOptions { Masks = r.GetValue(riseMasks), Seed = r.GetValue(seed), BatchSize = batchSize };
            var runners = Split(r.GetValue(methods)!).Select(name => Runner(name, settings, riseOptions)).ToList();
            if (runners.Count == 0) throw new UsageException("--methods names no method.");
            var causal = new CausalMetricOptions { Steps = r.GetValue(steps), BatchSize = batchSize };

            var images = annotated.Images.Take(r.GetValue(limit) is > 0 and var n ? n : int.MaxValue).ToList();
            string folder = r.GetValue(outDir)!;
            Directory.CreateDirectory(folder);
            string csvPath = Path.Combine(folder, "results.csv");
            var rows = new List<Row>();
            // The cache holds only for the same model, preprocessing and method / metric settings.
            string settingsPath = Path.Combine(folder, "settings.txt");
            string fingerprint = Fingerprint(r, model, setFolder, riseOptions, causal);
            bool sameSettings = File.Exists(settingsPath) && File.ReadAllText(settingsPath) == fingerprint;
            if (!sameSettings && !r.GetValue(fresh) && File.Exists(csvPath))
                error.WriteLine($"warning: {csvPath} was made with other settings; recomputing everything.");
            Dictionary<string, Row> cache = r.GetValue(fresh) || !sameSettings ? new() : ReadCache(csvPath);
            AtomicFile.Write(settingsPath, Encoding.UTF8.GetBytes(fingerprint));

            using CamExplainer explainer = ExplainerFactory.Create(r, model, MethodCatalog.Create("scorecam", settings), out string modelName);
            foreach (string warning in explainer.Warnings) error.WriteLine($"warning: {warning}");
            var total = Stopwatch.StartNew();
            for (int i = 0; i < images.Count; i++)
            {
                AnnotatedImage entry = images[i];
                error.WriteLine($"[{i + 1}/{images.Count}] {entry.File} ({total.Elapsed.TotalSeconds:0} s)");
                var classes = entry.Items.Select(item => item.ClassIndex).Distinct().ToList();
                var pending = classes.SelectMany(c => runners.Select(m => (c, m)))
                    .Where(x => !(cache.TryGetValue(Key(entry.File, x.m.Name, x.c), out Row? cached) && metricNames.All(cached.Metrics.ContainsKey)))
                    .ToList();
                if (pending.Count == 0)
                {
                    rows.AddRange(classes.SelectMany(c => runners.Select(m => cache[Key(entry.File, m.Name, c)])));
                    continue;
                }

                using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(setFolder, entry.File));
                ImageTensor input = explainer.Preprocess(picture);
                var scores = new float[explainer.Model.OutputSize];
                explainer.Session.Scores(input.Data.AsMemory(), 1, input, scores);
                int[] ranking = Enumerable.Range(0, scores.Length).OrderByDescending(k => scores[k]).ThenBy(k => k).ToArray();
                int predicted = ranking[0];
                foreach (int c in classes)
                {
                    BoundingBox ToInput(AnnotatedItem item) => input.SourceRegion is { } region ? item.Box.ToInput(region, input.Width, input.Height)
                        : item.Box.ToInput(picture.Width, picture.Height, input.Width, input.Height);
                    var boxes = entry.Items.Where(item => item.ClassIndex == c).Select(ToInput).ToList();
                    var otherBoxes = entry.Items.Where(item => item.ClassIndex != c).Select(ToInput).ToList();
                    string? label = entry.Items.First(item => item.ClassIndex == c).Label
                        ?? (explainer.Labels is { } labels && c < labels.Count ? labels[c] : null);
                    bool correct = ranking.Take(classes.Count).Contains(c);
                    foreach (var method in runners)
                    {
                        if (cache.TryGetValue(Key(entry.File, method.Name, c), out Row? cached) && metricNames.All(cached.Metrics.ContainsKey))
                        {
                            rows.Add(cached);
                            continue;
                        }
                        var clock = Stopwatch.StartNew();
                        Explanation e = method.Explain(explainer, input, ExplanationTarget.Class(c));
                        double seconds = clock.Elapsed.TotalSeconds;
                        var values = EvaluationMetric.Compute(explainer.Session, input, e.Heatmap, c, boxes, metricNames, causal, otherBoxes);
                        rows.Add(new Row(entry.File, method.Name, c, label ?? "", predicted, correct, values, seconds));
                    }
                }
                WriteCsv(csvPath, rows);
            }
            WriteCsv(csvPath, rows);

            var methodNames = runners.Select(m => m.Name).ToList();
            var summary = Summarize(rows, methodNames, metricNames);
            AtomicFile.Write(Path.Combine(folder, "summary.json"), JsonSerializer.SerializeToUtf8Bytes(
                summary.ToDictionary(m => m.Key, m => m.Value.ToDictionary(x => x.Key, x => new Dictionary<string, double?>
                {
                    ["mean"] = Finite(x.Value.Mean),
                    ["ci95"] = Finite(x.Value.Ci95),
                })), new JsonSerializerOptions { WriteIndented = true }));
            AtomicFile.Write(Path.Combine(folder, "summary.md"),
                Encoding.UTF8.GetBytes(Markdown(setFolder, modelName, rows, methodNames, metricNames, summary, riseOptions, causal, explainer.Labels)));

            foreach (string line in Markdown(setFolder, modelName, rows, methodNames, metricNames, summary, riseOptions, causal, explainer.Labels).Split('\n').Where(l => l.StartsWith('|')).Take(2 + methodNames.Count))
                output.WriteLine(line);
            output.WriteLine($"results: {csvPath}");
            output.WriteLine($"summary: {Path.Combine(folder, "summary.md")}, {Path.Combine(folder, "summary.json")}");
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>A method as the evaluation runs it: CAM methods through the explainer, RISE on its session.</summary>
    private sealed record MethodRunner(string Name, Func<CamExplainer, ImageTensor, ExplanationTarget, Explanation> Explain);

    private static MethodRunner Runner(string name, MethodSettings settings, RiseOptions riseOptions)
    {
        if (MethodCatalog.IsRise(name))
        {
            RiseMethod rise = MethodCatalog.CreateRise(settings, riseOptions.Masks, riseOptions.Seed);
            return new MethodRunner(rise.Name, (x, image, target) => rise.Explain(x, image, target));
        }
        CamMethod method = MethodCatalog.Create(name, settings);
        return new MethodRunner(method.Name, (x, image, target) => x.Explain(image, target, method));
    }

    private sealed record Row(string Image, string Method, int Class, string Label, int Predicted, bool Correct, Dictionary<string, double> Metrics, double Seconds);

    private static string[] DefaultMetrics(AnnotatedSet set)
    {
        var names = EvaluationMetric.All.ToList();
        if (set.Images.Any(i => i.Items.Select(item => item.ClassIndex).Distinct().Count() > 1)) names.Add(EvaluationMetric.OtherClassesEnergy);
        if (set.Images.Any(i => i.Items.GroupBy(item => item.ClassIndex).Any(g => g.Count() > 1))) names.Add(EvaluationMetric.WeakestBoxEnergy);
        return names.ToArray();
    }

    private static string Fingerprint(ParseResult r, ModelOptions model, string set, RiseOptions rise, CausalMetricOptions causal)
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
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"rise={rise.Masks},{rise.GridSize},{rise.KeepProbability},{rise.Seed}"));
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"causal={causal.Steps},{causal.BlurKernelSize},{causal.BlurSigma}"));
        return string.Join('\n', parts) + "\n";
    }

    private static string Key(string image, string method, int c) => $"{image}\u0001{method}\u0001{c}";

    private static string[] Split(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? $"\"{s.Replace("\"", "\"\"")}\"" : s;

    private static void WriteCsv(string path, List<Row> rows)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Fixed.Concat(EvaluationMetric.Known).Append("seconds"))).Append('\n');
        foreach (Row row in rows)
        {
            sb.Append(Quote(row.Image)).Append(',').Append(Quote(row.Method)).Append(',').Append(row.Class.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(Quote(row.Label)).Append(',').Append(row.Predicted.ToString(CultureInfo.InvariantCulture)).Append(',').Append(row.Correct ? "true" : "false");
            foreach (string metric in EvaluationMetric.Known)
                sb.Append(',').Append(row.Metrics.TryGetValue(metric, out double v) ? Number(v) : ""); // "NaN": not applicable; empty: not computed
            sb.Append(',').Append(Number(row.Seconds)).Append('\n');
        }
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(sb.ToString()));
    }

    private static Dictionary<string, Row> ReadCache(string path)
    {
        var cache = new Dictionary<string, Row>();
        if (!File.Exists(path)) return cache;
        string[] lines = File.ReadAllLines(path);
        if (lines.Length == 0) return cache;
        string[] header = ParseCsvLine(lines[0]);
        foreach (string line in lines.Skip(1).Where(l => l.Length > 0))
        {
            string[] f = ParseCsvLine(line);
            if (f.Length != header.Length) continue;
            var field = header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => f[x.i]);
            try
            {
                var metrics = EvaluationMetric.Known.Where(m => field.TryGetValue(m, out string? v) && v.Length > 0)
                    .ToDictionary(m => m, m => double.Parse(field[m], CultureInfo.InvariantCulture));
                var row = new Row(field["image"], field["method"], int.Parse(field["class"], CultureInfo.InvariantCulture), field["label"],
                    int.Parse(field["predicted"], CultureInfo.InvariantCulture), field["correct"] == "true", metrics,
                    double.Parse(field["seconds"], CultureInfo.InvariantCulture));
                cache[Key(row.Image, row.Method, row.Class)] = row;
            }
            catch (Exception e) when (e is FormatException or KeyNotFoundException or OverflowException)
            {
                // A damaged row is recomputed.
            }
        }
        return cache;
    }

    private static string[] ParseCsvLine(string line)
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

    private static Dictionary<string, Dictionary<string, MeanInterval>> Summarize(List<Row> rows, List<string> methods, string[] metrics) =>
        methods.ToDictionary(m => m, m => metrics.ToDictionary(metric => metric,
            metric => MeanInterval.Of(rows.Where(r => r.Method == m && r.Correct && r.Metrics.ContainsKey(metric)).Select(r => r.Metrics[metric]))));

    private static string Markdown(string set, string modelName, List<Row> rows, List<string> methods, string[] metrics,
        Dictionary<string, Dictionary<string, MeanInterval>> summary, RiseOptions rise, CausalMetricOptions causal, IReadOnlyList<string>? labels)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        int explanations = rows.Count(r => r.Method == methods[0]), correct = rows.Count(r => r.Method == methods[0] && r.Correct);
        sb.Append($"# Evaluation of {Path.GetFileName(Path.TrimEndingDirectorySeparator(set))}\n\n");
        sb.Append($"Model `{Path.GetFileName(modelName)}`, set `{set}`: {rows.Select(r => r.Image).Distinct().Count()} images, {explanations} explained classes, ")
          .Append($"{correct} correctly classified (the means below), {explanations - correct} misclassified (listed apart).\n");
        sb.Append(string.Create(inv, $"RISE: N = {rise.Masks}, s = {rise.GridSize}, p = {rise.KeepProbability}, seed {rise.Seed}. Deletion / insertion: {causal.Steps} steps, baseline 0 (the mean colour), insertion from a {causal.BlurKernelSize}×{causal.BlurKernelSize} Gaussian blur (σ = {causal.BlurSigma}).\n"));
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
            sb.Append("| image | class | predicted |\n|---|---|---|\n");
            foreach (Row r in wrong)
            {
                string predicted = labels is not null && r.Predicted < labels.Count ? $"{labels[r.Predicted]} [{r.Predicted}]" : r.Predicted.ToString(inv);
                sb.Append($"| {r.Image} | {(r.Label.Length > 0 ? $"{r.Label} [{r.Class}]" : r.Class.ToString(inv))} | {predicted} |\n");
            }
        }
        return sb.ToString();
    }
}
