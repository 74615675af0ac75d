using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam experiment robustness|stability|convergence</c>: the paper's sections 5.4.1, 5.4.2 and 5.5.1 over an
/// annotated set, through the library's <see cref="FgsmSweep"/>, <see cref="RobustnessSweep"/>,
/// <see cref="WeightStability"/> and <see cref="Convergence"/>. Each writes NAME.md, NAME.csv, NAME.json, NAME.png and NAME.svg
/// into <c>--out</c>.
/// </summary>
internal static class ExperimentCommand
{
    private const string DefaultMethods = "gradcam,gradcam++,scorecam";

    public static Command Create(TextWriter output, TextWriter error) => new("experiment", "Reproduce the paper's adversarial and model-analysis experiments over an annotated set.")
    {
        Sweep("robustness", "Section 5.4.1: FGSM against the true class; where each method's map peak and energy go.", "0,2/255,4/255,8/255", output, error),
        Sweep("stability", "Section 5.4.2: how the CAM methods' channel weights change under FGSM.", "0,1/255,2/255,3/255,4/255,5/255,6/255,7/255,8/255", output, error),
        ConvergenceCommand(output, error),
    };

    /// <summary>The flags every experiment shares.</summary>
    private sealed class Common
    {
        public ModelOptions Model { get; } = new();
        public MethodOptions Methods { get; } = new();
        public Option<string> Set { get; } = new("--set") { Description = "Annotated set: a folder with annotations.json and its pictures (the first object of each is its true class and box).", Required = true };
        public Option<int> Limit { get; } = new("--limit") { Description = "The first N images only (0: all).", DefaultValueFactory = _ => 0 };
        public Option<int> Figures { get; } = new("--figures") { Description = "Images drawn in NAME.png.", DefaultValueFactory = _ => 2 };
        public Option<string> Out { get; } = new("--out-dir") { Description = "Output folder.", DefaultValueFactory = _ => "scorecam-experiments" };
        public Option<bool> Quiet { get; } = new("--quiet") { Description = "No progress display." };

        public void AddTo(Command command)
        {
            foreach (Option o in new Option[] { Set, Limit, Figures, Out, Quiet }) command.Options.Add(o);
            Methods.AddTo(command);
            Model.AddTo(command);
        }

        public (AnnotatedSet Set, List<AnnotatedImage> Images, string Folder) Inputs(ParseResult r)
        {
            if (r.GetValue(Limit) < 0) throw new UsageException("--limit must not be negative.");
            if (r.GetValue(Figures) < 0) throw new UsageException("--figures must not be negative.");
            AnnotatedSet set = AnnotatedSet.Read(r.GetValue(Set)!);
            var images = set.Images.Take(r.GetValue(Limit) is > 0 and var n ? n : int.MaxValue).ToList();
            if (images.Count == 0) throw new ScoreCamException($"{r.GetValue(Set)} has no images.");
            string folder = r.GetValue(Out)!;
            Directory.CreateDirectory(folder);
            return (set, images, folder);
        }
    }

    private static Command Sweep(string name, string description, string defaultEpsilons, TextWriter output, TextWriter error)
    {
        var common = new Common();
        var epsilons = new Option<string>("--epsilons") { Description = "FGSM steps in picture units, comma-separated numbers or fractions such as 8/255; the first must be 0.", DefaultValueFactory = _ => defaultEpsilons };
        var methods = new Option<string>("--method")
        {
            Description = name == "stability" ? "CAM methods (they have channel weights), comma-separated." : $"Methods, comma-separated: any of {string.Join(", ", MethodCatalog.Names)}.",
            DefaultValueFactory = _ => DefaultMethods,
        };
        var command = new Command(name, description) { epsilons, methods };
        common.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            List<float> steps = ParseEpsilons(r.GetValue(epsilons)!);
            List<IExplanationMethod> chosen = MethodOptions.CreateAll(r.GetValue(methods)!, common.Methods.Settings(r));
            if (name == "stability" && chosen.FirstOrDefault(m => m is not CamMethod) is { } pixel)
                throw new UsageException($"--method: {pixel.Name} has no channel weights; weight stability compares CAM methods ({DefaultMethods}).");
            var (set, images, folder) = common.Inputs(r);
            List<SweepPoint> points;
            string modelName;
            IReadOnlyList<string>? labels;
            PreprocessOptions preprocessing;
            using (ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(common.Quiet)))
            {
                using CamExplainer explainer = ExplainerFactory.Create(r, common.Model, chosen[0], new WarningLogger(line => progress.WriteLine(error, line)),
                    out modelName);
                (labels, preprocessing) = (explainer.Labels, explainer.Preprocessing);
                progress.Begin(images.Count, "images", passesSpanItem: false);
                points = FgsmSweep.Run(explainer, set, images, steps, chosen, (i, image) =>
                {
                    if (i > 0) progress.Completed();
                    progress.Next(image.File);
                });
            }
            var writer = new ExperimentWriter(folder, name, modelName, set.Folder, images.Count);
            if (name == "robustness")
            {
                List<RobustnessRow> rows = RobustnessSweep.Summarize(points);
                writer.Write(rows, Markdown.Robustness(rows, steps), ExperimentFigures.Robustness(points, preprocessing, r.GetValue(common.Figures)),
                    points.Select(p => new { image = p.Item.Image.File, trueClass = p.Item.TrueClass, epsilon = p.Epsilon, method = p.Method, predicted = p.Predicted,
                        trueClassProbability = p.TrueClassProbability, peakShift = p.PeakShift, energyInBox = p.EnergyInBox }));
            }
            else
            {
                List<WeightStabilityRow> rows = WeightStability.Summarize(points);
                writer.Write(rows, Markdown.Stability(rows, steps, points[0].Explanation.ChannelWeights.Length), ExperimentFigures.Stability(rows),
                    points.Select(p => new { image = p.Item.Image.File, epsilon = p.Epsilon, method = p.Method, weights = p.Explanation.ChannelWeights }));
            }
            writer.Report(output);
            return CliApp.Ok;
        }));
        return command;
    }

    private static Command ConvergenceCommand(TextWriter output, TextWriter error)
    {
        var common = new Common();
        var early = new Option<string>("--early") { Description = "The early checkpoint (ONNX) compared with --model; it is read with --model's preprocessing.", Required = true };
        var method = new Option<string>("--method") { Description = "The method both models are explained with.", DefaultValueFactory = _ => "scorecam" };
        var command = new Command("convergence", "Section 5.5.1: an early checkpoint against the final model, energy in the true box and heat outside it.") { early, method };
        common.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            IExplanationMethod chosen = MethodOptions.Create(r.GetValue(method)!, common.Methods.Settings(r));
            string earlyPath = r.GetValue(early)!;
            if (!File.Exists(earlyPath)) throw new ScoreCamException($"--early: {earlyPath} does not exist.");
            var (set, images, folder) = common.Inputs(r);
            List<ConvergencePoint> points;
            string modelName;
            using (ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(common.Quiet)))
            {
                var logger = new WarningLogger(line => progress.WriteLine(error, line));
                using CamExplainer final = ExplainerFactory.Create(r, common.Model, chosen, logger, out modelName);
                // Every flag as for --model (device, batch, precision, ...), and --model's preprocessing and labels.
                using CamExplainer first = ExplainerFactory.Create(r, common.Model, chosen, logger, out _, modelPath: earlyPath, like: final);
                progress.Begin(images.Count, "images", passesSpanItem: false);
                points = Convergence.Compare(first, final, set, images, chosen, (i, image) =>
                {
                    if (i > 0) progress.Completed();
                    progress.Next(image.File);
                });
                var writer = new ExperimentWriter(folder, "convergence", modelName, set.Folder, images.Count);
                writer.Write(points.Select(p => new
                {
                    image = p.Item.Image.File, trueClass = p.Item.TrueClass,
                    earlyPredicted = p.Early.Prediction.Index, finalPredicted = p.Final.Prediction.Index,
                    earlyEnergyInBox = p.EarlyEnergy, finalEnergyInBox = p.FinalEnergy, earlyHeatOutside = p.EarlyOutside, finalHeatOutside = p.FinalOutside,
                }).ToList(), Markdown.Convergence(points, earlyPath, chosen.Name), ExperimentFigures.Convergence(first, set, points, r.GetValue(common.Figures), chosen.Name), null);
                writer.Report(output);
            }
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>Comma-separated numbers or fractions a/b, each non-negative.</summary>
    internal static List<float> ParseEpsilons(string text)
    {
        var values = new List<float>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!EpsilonText.TryParse(item, out float value))
                throw new UsageException($"--epsilons: '{item}' is not a step in [0, 1] (a number or a fraction such as 8/255).");
            values.Add(value);
        }
        if (values.Count == 0 || values[0] != 0) throw new UsageException("--epsilons must start with 0: every step is measured against the clean input.");
        if (values.Distinct().Count() != values.Count) throw new UsageException("--epsilons names a step twice.");
        return values;
    }

    /// <summary>The Markdown tables.</summary>
    private static class Markdown
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

    /// <summary>Writes one experiment's NAME.md, NAME.csv, NAME.json, NAME.png and NAME.svg (the figure with its text), each atomically.</summary>
    private sealed class ExperimentWriter(string folder, string name, string model, string set, int images)
    {
        private readonly List<string> _written = new();

        public void Write<T>(IReadOnlyList<T> rows, string markdown, ExperimentFigure? figure, IEnumerable<object>? points)
        {
            string md = $"# {name}\n\nModel `{Path.GetFileName(model)}`, set `{set}`, {images} images.\n\n{markdown}";
            if (figure is not null) md += $"\n![{name}]({name}.svg)\n";
            Save($"{name}.md", Encoding.UTF8.GetBytes(md));
            Save($"{name}.csv", Encoding.UTF8.GetBytes(Csv(rows)));
            Save($"{name}.json", JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
            {
                ["experiment"] = name, ["model"] = model, ["set"] = set, ["images"] = images, ["rows"] = rows, ["points"] = points,
            }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            if (figure is not null)
                using (figure)
                {
                    string png = Path.Combine(folder, $"{name}.png");
                    HeatmapRenderer.SavePng(figure.Picture, png);
                    _written.Add(png);
                    Save($"{name}.svg", Encoding.UTF8.GetBytes(figure.Svg));
                }
        }

        public void Report(TextWriter output)
        {
            foreach (string line in File.ReadAllLines(Path.Combine(folder, $"{name}.md")).Where(l => l.StartsWith('|')))
                output.WriteLine(line);
            output.WriteLine($"wrote {string.Join(", ", _written)}");
        }

        private void Save(string file, byte[] bytes)
        {
            string path = Path.Combine(folder, file);
            AtomicFile.Write(path, bytes);
            _written.Add(path);
        }

        private static string Csv<T>(IReadOnlyList<T> rows)
        {
            var properties = typeof(T).GetProperties();
            var sb = new StringBuilder(string.Join(',', properties.Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)))).Append('\n');
            foreach (T row in rows)
                sb.Append(string.Join(',', properties.Select(p => p.GetValue(row) switch
                {
                    float f => f.ToString("R", CultureInfo.InvariantCulture),
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    string s => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s,
                    var v => Convert.ToString(v, CultureInfo.InvariantCulture),
                }))).Append('\n');
            return sb.ToString();
        }
    }
}
