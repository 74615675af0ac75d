using System.CommandLine;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary><c>scorecam explain</c>: one explanation as an overlay PNG and/or JSON.</summary>
internal static class ExplainCommand
{
    public const string DefaultOutputFolder = "scorecam-out";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var image = new Option<string?>("--image") { Description = "Picture to explain (PNG, JPEG, ...). Default: the embedded sample canvas." };
        var tensor = new Option<string?>("--tensor") { Description = "An already preprocessed float32 .npy tensor (1,C,H,W) or (C,H,W), instead of --image." };
        var target = new Option<string?>("--target") { Description = "Class to explain: an index or a label. Default: the top prediction." };
        var similarTo = new Option<string?>("--similar-to") { Description = "Explain the cosine similarity of the model's output (an embedding) to this picture's, instead of a class." };
        var method = new Option<string>("--method") { Description = $"One of: {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam" };
        var methodFlags = new MethodOptions(stepsAlias: true);
        var colormap = new Option<string>("--colormap") { Description = "jet (as in the paper) or viridis.", DefaultValueFactory = _ => "jet" };
        var outPng = new Option<string?>("--out") { Description = $"Overlay PNG to write. Default: {DefaultOutputFolder}/NAME-METHOD.png (unless only --json is given)." };
        var json = new Option<string?>("--json") { Description = "Explanation JSON to write." };

        var command = new Command("explain", "Explain one image: which regions make the model predict the target class.")
        {
            image, tensor, target, similarTo, method, colormap, outPng, json,
        };
        methodFlags.AddTo(command);
        model.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            string? modelPath = r.GetValue(model.Model), imagePath = r.GetValue(image), tensorPath = r.GetValue(tensor);
            if (imagePath is not null && tensorPath is not null) throw new UsageException("Pass either --image or --tensor, not both.");
            if (modelPath is not null && imagePath is null && tensorPath is null)
                throw new UsageException("Name the input to explain with --image FILE or --tensor FILE.npy.");
            IExplanationMethod explanationMethod = MethodOptions.Create(r.GetValue(method)!, methodFlags.Settings(r));
            Colormap map = r.GetValue(colormap)!.ToLowerInvariant() switch
            {
                "jet" => Colormap.Jet,
                "viridis" => Colormap.Viridis,
                var other => throw new UsageException($"--colormap must be jet or viridis; got '{other}'."),
            };

            using CamExplainer explainer = ExplainerFactory.Create(r, model, explanationMethod, out string modelName, methodFlags.BatchSize(r));
            foreach (string warning in explainer.Warnings) error.WriteLine($"warning: {warning}");

            using Image<Rgb24>? picture = tensorPath is not null ? null
                : imagePath is not null ? explainer.LoadImage(imagePath) : EmbeddedDefaults.SampleImage();
            ImageTensor input = tensorPath is not null ? NpyFile.ReadImageTensor(tensorPath) : explainer.Preprocess(picture!);
            if (r.GetValue(target) is not null && r.GetValue(similarTo) is not null) throw new UsageException("Pass either --target or --similar-to, not both.");
            ExplanationTarget explanationTarget = r.GetValue(target) is { } t ? ExplanationTarget.Parse(t)
                : r.GetValue(similarTo) is { } reference ? SimilarityTo(explainer, reference)
                : ExplanationTarget.TopPrediction;

            Explanation result = explainer.Explain(input, explanationTarget);

            string? jsonPath = r.GetValue(json), pngPath = r.GetValue(outPng);
            if (pngPath is null && jsonPath is null)
                pngPath = Path.Combine(DefaultOutputFolder, $"{Path.GetFileNameWithoutExtension(imagePath ?? tensorPath ?? "sample")}-{result.Method}.png");
            if (pngPath is not null)
            {
                using Image<Rgb24> background = picture?.Clone() ?? TensorImage.ToPicture(input, explainer.Preprocessing);
                using Image<Rgb24> overlay = HeatmapRenderer.Overlay(background, result.Heatmap, picture is null ? null : input.SourceRegion, map);
                HeatmapRenderer.SavePng(overlay, pngPath);
            }
            if (jsonPath is not null) AtomicFile.Write(jsonPath, ExplanationJson.Serialize(result, modelName));

            // For a custom target the output row is an embedding, whose "top class" means nothing.
            if (result.Target.Index is not null)
                output.WriteLine($"prediction: {Describe(result.Prediction.Label, result.Prediction.Index)} (p={result.Prediction.Probability:0.####})");
            output.WriteLine($"target:     {(result.Target.Index is { } ti ? Describe(result.Target.Label, ti) : result.Target.Name)} (score={result.Target.Score:0.####})");
            output.WriteLine($"layer:      {result.Layer}, {result.ForwardPasses} forward passes ({result.SkippedChannels} constant maps skipped), {result.Elapsed.TotalSeconds:0.00} s");
            if (pngPath is not null) output.WriteLine($"overlay:    {pngPath}");
            if (jsonPath is not null) output.WriteLine($"json:       {jsonPath}");
            return CliApp.Ok;
        }));
        return command;
    }

    private static ExplanationTarget SimilarityTo(CamExplainer explainer, string referencePath)
    {
        using Image<Rgb24> reference = explainer.LoadImage(referencePath);
        return SimilarityTarget.Cosine(explainer.Embed(explainer.Preprocess(reference)), $"cosine similarity to {Path.GetFileName(referencePath)}");
    }

    private static string Describe(string? label, int index) => label is null ? $"class {index}" : $"{label} [{index}]";
}
