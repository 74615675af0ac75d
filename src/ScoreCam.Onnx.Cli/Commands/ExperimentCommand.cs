using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ScoreCam.Onnx.Output;
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
            MethodSettings settings = common.Methods.Settings(r);
            List<IExplanationMethod> chosen = MethodOptions.CreateAll(r.GetValue(methods)!, settings);
            if (name == "stability" && chosen.FirstOrDefault(m => m is not CamMethod) is { } pixel)
                throw new UsageException($"--method: {pixel.Name}{(pixel is TestTimeAugmentation ? " with --aug-smooth" : "")} has no channel weights; weight stability compares CAM methods ({DefaultMethods}).");
            var (set, images, folder) = common.Inputs(r);
            List<SweepPoint> points;
            string modelName;
            IReadOnlyList<string>? labels;
            PreprocessOptions preprocessing;
            using (ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(common.Quiet)))
            {
                using var warnings = new WarningLogger(line => progress.WriteLine(error, line), tally: true);
                using CamExplainer explainer = ExplainerFactory.Create(r, common.Model, chosen[0], warnings,
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
                writer.Write(rows, ExperimentTables.Robustness(rows, steps), ExperimentFigures.Robustness(points, preprocessing, r.GetValue(common.Figures)),
                    points.Select(p => new { image = p.Item.Image.File, trueClass = p.Item.TrueClass, epsilon = p.Epsilon, method = p.Method, predicted = p.Predicted,
                        trueClassProbability = p.TrueClassProbability, peakShift = p.PeakShift, energyInBox = p.EnergyInBox }));
            }
            else
            {
                List<WeightStabilityRow> rows = WeightStability.Summarize(points);
                writer.Write(rows, ExperimentTables.Stability(rows, steps, points[0].Explanation.ChannelWeights.Length), ExperimentFigures.Stability(rows),
                    points.Select(p => new { image = p.Item.Image.File, epsilon = p.Epsilon, method = p.Method, weights = p.Explanation.ChannelWeights }));
            }
            writer.Report(output);
            foreach (string line in MethodOptions.Reach(settings, r.GetValue(methods)!)) output.WriteLine(line);
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
            MethodSettings settings = common.Methods.Settings(r);
            MethodOptions.RefuseUnreached(settings.Given, r.GetValue(method)!, "--");
            IExplanationMethod chosen = MethodOptions.Create(r.GetValue(method)!, settings);
            string earlyPath = r.GetValue(early)!;
            if (!File.Exists(earlyPath)) throw new ScoreCamException($"--early: {earlyPath} does not exist.");
            var (set, images, folder) = common.Inputs(r);
            List<ConvergencePoint> points;
            string modelName;
            using (ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(common.Quiet)))
            {
                using var logger = new WarningLogger(line => progress.WriteLine(error, line), tally: true);
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
                }).ToList(), ExperimentTables.Convergence(points, earlyPath, chosen.Name), ExperimentFigures.Convergence(first, set, points, r.GetValue(common.Figures), chosen.Name), null);
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
}
