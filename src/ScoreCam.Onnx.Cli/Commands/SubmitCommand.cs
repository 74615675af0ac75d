using System.CommandLine;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Jobs;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam submit</c>: explain's run (pictures × methods into --out-dir as NAME-METHOD.png and results.json) done by
/// `scorecam worker` processes through NATS JetStream. The model's options are resolved here as explain resolves
/// them, so that the workers' results equal a local run's.
/// </summary>
internal static class SubmitCommand
{
    public static Command Create(TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        var nats = new NatsOptions();
        var model = new ModelOptions();
        var methodFlags = new MethodOptions();
        var pictureFlags = new PictureOptions();
        var image = new Option<string[]>("--image")
        {
            Description = "Pictures to explain: files, folders (the pictures in them) or globs such as 'photos/*.jpg' (quoted). Repeatable.",
            AllowMultipleArgumentsPerToken = true,
            Required = true,
        };
        var target = new Option<string?>("--target") { Description = "Class to explain: an index or a label. Default: the top prediction." };
        var method = new Option<string>("--method") { Description = $"One or several, comma-separated: {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam" };
        var outDir = new Option<string>("--out-dir") { Description = $"Folder for NAME-METHOD.png per picture and method and one {ExplainCommand.ResultsFile}.", DefaultValueFactory = _ => ExplainCommand.DefaultOutputFolder };
        var heatmapValues = new Option<bool>("--heatmap-values") { Description = "The JSON also holds heatmap.values: the display map at the input size." };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds to wait for the workers before giving up (what is done stays done). Default: until every item is done or failed." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress display." };
        var command = new Command("submit", "Explain pictures like `explain --out-dir` does, on `scorecam worker` processes through NATS JetStream; resubmitting skips what is done.")
        {
            image, target, method, outDir, heatmapValues, timeout, quiet,
        };
        model.AddTo(command, batch: false);
        methodFlags.AddTo(command);
        pictureFlags.AddTo(command);
        nats.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            foreach (Option workerOwn in new Option[] { model.Device, model.Precision, model.Calibration, model.IoBinding, model.CudaGraphs, model.MaxMemory })
                if (r.GetResult(workerOwn) is { Implicit: false })
                    throw new UsageException($"{workerOwn.Name} is the workers' choice: pass it to `scorecam worker`.");
            if (r.GetValue(timeout) is { } t && !(t > 0 && t <= 1e7)) throw new UsageException($"--timeout must be a positive number of seconds; got {t}.");
            List<IExplanationMethod> methods = MethodOptions.CreateChosen(r.GetValue(method)!, methodFlags.Settings(r));
            List<string> pictures = ImageInputs.Expand(r.GetValue(image)!);
            var clash = pictures.GroupBy(p => Path.GetFileNameWithoutExtension(p), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (clash is not null)
                throw new UsageException($"the pictures {string.Join(" and ", clash.Take(2))} share the name '{clash.Key}', so their outputs (NAME-METHOD.png) would overwrite each other; submit them in separate jobs or rename one.");
            NATS.Client.Core.NatsOpts natsOptions = nats.Options(r, "scorecam submit");

            using ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(quiet));
            // The explainer a local run would build: its preprocessing, labels and batch are what the workers are sent.
            using CamExplainer explainer = ExplainerFactory.Create(r, model, methods[0], new WarningLogger(line => progress.WriteLine(error, line)), out string modelName);
            Models.ModelPreparationOptions preparation = model.Preparation(r);
            var request = new JobRequest
            {
                Model = r.GetValue(model.Model) is { } path ? File.ReadAllBytes(path) : EmbeddedDefaults.Model(),
                ModelName = modelName,
                Spec = new ExplanationSpec
                {
                    Layer = preparation.Layer,
                    InputName = preparation.InputName,
                    OutputName = preparation.OutputName,
                    ProbeHeight = preparation.ProbeSize.Height,
                    ProbeWidth = preparation.ProbeSize.Width,
                    Preprocess = explainer.Preprocessing with { Labels = null },
                    Labels = explainer.Labels,
                    MaxImagePixels = model.MaxPixels(r),
                    KeepStoredOrientation = r.GetValue(model.KeepOrientation),
                    Target = r.GetValue(target),
                    Style = pictureFlags.Style(r),
                    HeatmapValues = r.GetValue(heatmapValues),
                },
                Pictures = pictures,
                Methods = methods,
                OutputFolder = r.GetValue(outDir)!,
                Batch = ExplanationJson.Of(explainer.BatchSizeChoice),
                Timeout = r.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            };
            Directory.CreateDirectory(request.OutputFolder);
            return Run(natsOptions, request, progress, output, error, cancellation).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Run(NATS.Client.Core.NatsOpts nats, JobRequest request, ProgressDisplay progress, TextWriter output, TextWriter error,
        CancellationToken cancellation)
    {
        await using JobStore store = await JobStore.ConnectAsync(nats, cancellation);
        progress.Begin(request.Pictures.Count * request.Methods.Count, "explanations");
        var shown = new ProgressCounter(progress);
        JobOutcome outcome = await new JobSubmitter(store).RunAsync(request, shown, cancellation);
        progress.Dispose();
        foreach (FailureDocument failure in outcome.Failed) error.WriteLine($"error: {failure.Image} ({failure.Method}): {LibraryTerms.Rephrase(failure.Error)}");
        output.WriteLine($"job: {outcome.Total} items, {outcome.StoredBefore} done before, {outcome.Queued} queued");
        output.WriteLine($"results: {outcome.ResultsPath} ({outcome.Done} explanations{(outcome.Failed.Count > 0 ? $", {outcome.Failed.Count} failed" : "")})");
        return outcome.Failed.Count > 0 ? CliApp.InputError : CliApp.Ok;
    }

    /// <summary>Moves the progress display on by each newly finished item.</summary>
    private sealed class ProgressCounter(ProgressDisplay display) : IProgress<JobProgress>
    {
        private int _shown;

        public void Report(JobProgress value)
        {
            for (; _shown < value.Done + value.Failed; _shown++) display.Completed();
        }
    }
}
