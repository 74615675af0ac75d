using System.CommandLine;
using ScoreCam.Onnx.Cli.Reports;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam report</c>: explains pictures with one or several methods and writes one self-contained HTML page: per
/// picture the input, one overlay per method (and the attribution picture of pixel-space methods), the top
/// predictions and the target. A picture that cannot be read or explained is listed on the page and skipped; the exit
/// code says so.
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
        var methodFlags = new MethodOptions(stepsAlias: true);
        var pictureFlags = new PictureOptions();
        var outHtml = new Option<string>("--out") { Description = $"HTML file to write. Default: {ExplainCommand.DefaultOutputFolder}/report.html.", DefaultValueFactory = _ => Path.Combine(ExplainCommand.DefaultOutputFolder, "report.html") };
        var quiet = new Option<bool>("--quiet") { Description = "No progress display." };

        var command = new Command("report", "Explain pictures with several methods and write one self-contained HTML page.") { image, target, method, outHtml, quiet };
        methodFlags.AddTo(command);
        pictureFlags.AddTo(command, panel: false);
        model.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            List<IExplanationMethod> methods = MethodOptions.CreateAll(r.GetValue(method)!, methodFlags.Settings(r));
            PictureStyle style = pictureFlags.Style(r);
            string[] imageValues = r.GetValue(image) ?? Array.Empty<string>();
            if (r.GetValue(model.Model) is not null && imageValues.Length == 0) throw new UsageException("Name the pictures to explain with --image.");
            List<string?> pictures = imageValues.Length > 0 ? ImageInputs.Expand(imageValues).Cast<string?>().ToList() : new List<string?> { null };
            string path = r.GetValue(outHtml)!;

            using ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(quiet));
            using CamExplainer explainer = ExplainerFactory.Create(r, model, methods[0], new WarningLogger(line => progress.WriteLine(error, line)),
                out string modelName, methodFlags.BatchSize(r));
            ExplanationTarget explanationTarget = r.GetValue(target) is { } t ? ExplanationTarget.Parse(t) : ExplanationTarget.TopPrediction;

            var entries = new List<ReportEntry>();
            var failures = new List<ReportFailure>();
            progress.Begin(pictures.Count * methods.Count, "explanations");
            foreach (string? file in pictures)
            {
                string name = file ?? "sample";
                try
                {
                    entries.Add(Entry(explainer, file, name, explanationTarget, methods, style, progress));
                }
                catch (ScoreCamException e)
                {
                    failures.Add(new ReportFailure(name, e.Message));
                    progress.WriteLine(error, $"error: {name}: {e.Message}");
                }
            }
            HtmlReport.Write(path, new ReportPage($"Explanations: {string.Join(", ", methods.Select(m => m.Name))}", entries)
            {
                Subtitle = $"Model: {Path.GetFileName(modelName)}, target layer {explainer.Model.Layer}. Overlays: {style.Overlay.Colormap.ToString().ToLowerInvariant()} colormap (low to high), alpha {style.Overlay.Alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}.",
                Failures = failures,
            });
            progress.Dispose();
            output.WriteLine($"report: {path} ({entries.Count} pictures, {methods.Count} methods{(failures.Count > 0 ? $", {failures.Count} pictures failed" : "")})");
            return failures.Count > 0 ? CliApp.InputError : CliApp.Ok;
        }));
        return command;
    }

    private static ReportEntry Entry(CamExplainer explainer, string? file, string name, ExplanationTarget target,
        List<IExplanationMethod> methods, PictureStyle style, ProgressDisplay progress)
    {
        using Image<Rgb24> picture = file is null ? EmbeddedDefaults.SampleImage() : explainer.LoadImage(file);
        ImageTensor tensor = explainer.Preprocess(picture);
        var maps = new List<ReportPicture>();
        Explanation? first = null;
        foreach (IExplanationMethod method in methods)
        {
            progress.Next($"{Path.GetFileNameWithoutExtension(name)} {method.Name}");
            Explanation e = explainer.Explain(tensor, target, method, progress);
            progress.Completed();
            first ??= e;
            using (Image<Rgb24> overlay = style.Draw(picture, tensor, e, explainer.Preprocessing))
                maps.Add(new ReportPicture(e.Method, HeatmapRenderer.EncodePng(overlay)));
            using Image<Rgb24>? attribution = style.DrawAttribution(e, explainer.Preprocessing);
            if (attribution is not null)
                maps.Add(new ReportPicture($"{e.Method} ({style.ViewFor(e.Method).ToString().ToLowerInvariant()})", HeatmapRenderer.EncodePng(attribution)));
        }
        float[] probabilities = explainer.Probabilities(tensor);
        ReportScore[] top = Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).Take(TopPredictions)
            .Select(i => new ReportScore(explainer.Labels is { } labels && i < labels.Count ? labels[i] : null, i, probabilities[i])).ToArray();
        using Image<Rgb24> input = HeatmapRenderer.Enlarge(picture, style.Overlay.MinShortSide);
        TargetInfo explained = first!.Target;
        return new ReportEntry(name, new ReportPicture("input", HeatmapRenderer.EncodePng(input)), maps, top,
            new ReportScore(explained.Index is null ? explained.Name : explained.Label, explained.Index, explained.Score));
    }
}
