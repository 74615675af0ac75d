using System.CommandLine;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The one place that turns the shared flags (model, preprocessing, inference, batch) into a <see cref="CamExplainer"/>,
/// for every command and for serve, falling back to the embedded default model.
/// </summary>
internal static class ExplainerFactory
{
    /// <summary>Tests watch what each command builds: called with the options just before the explainer is made.</summary>
    internal static readonly AsyncLocal<Action<ModelPreparationOptions, ExplainerOptions>?> Building = new();

    /// <param name="batchSize">A command's own batch size (bench's list) instead of --batch.</param>
    /// <param name="scoreOutput">The output to score when the target names one (explain --target-output).</param>
    /// <param name="modelPath">Another model than --model's (experiment convergence's early checkpoint), with every other flag as given.</param>
    /// <param name="precision">A precision of bench's --precision list instead of --precision's value.</param>
    /// <param name="like">An explainer whose preprocessing and labels to take instead of the model's own (the early checkpoint reads pictures as the final model).</param>
    public static CamExplainer Create(ParseResult r, ModelOptions flags, IExplanationMethod method, ILogger logger, out string modelName,
        int? batchSize = null, int threads = 0, string? scoreOutput = null, string? modelPath = null, CamExplainer? like = null, string? precision = null)
    {
        string? path = modelPath ?? r.GetValue(flags.Model);
        if (path is not null && !File.Exists(path))
            throw new ScoreCam.Onnx.Core.ScoreCamException(Directory.Exists(path)
                ? $"The model '{path}' is a folder; name an .onnx file in it."
                : $"The model file '{path}' does not exist; check the path (leave out --model for the embedded default model).");
        ModelPreparationOptions preparation = flags.Preparation(r);
        if (scoreOutput is not null) preparation = preparation with { OutputName = scoreOutput };
        var inference = flags.Inference(r, precision) with
        {
            IntraOpThreads = threads,
            BatchSize = batchSize ?? flags.BatchSize(r),
            MaxBatchMemoryBytes = flags.MaxBatchMemory(r),
        };
        PreparedModel model = path is null
            ? ModelPreparer.Prepare(EmbeddedDefaults.Model(), EmbeddedDefaults.ModelName, preparation)
            : ModelPreparer.Prepare(path, preparation);
        PreprocessOptions preprocess = like?.Preprocessing
            ?? flags.Preprocess(r, path is null ? EmbeddedDefaults.Preprocess() : PreprocessOptions.FromSidecar(path), model);
        IReadOnlyList<string>? labels = like is not null ? like.Labels
            : preprocess.Labels is { } file ? LabelsFile.Read(file) // checked by the explainer against the model's classes (a detector's, a segmenter's)
            : path is null ? EmbeddedDefaults.Labels() : null;
        modelName = path ?? EmbeddedDefaults.ModelName;
        var options = new ExplainerOptions
        {
            Preparation = preparation,
            Inference = inference,
            Preprocess = preprocess,
            Labels = labels,
            Method = method,
            MaxImagePixels = flags.MaxPixels(r),
            KeepStoredOrientation = r.GetValue(flags.KeepOrientation),
            Logger = logger,
        };
        Building.Value?.Invoke(preparation, options);
        return new CamExplainer(model, options);
    }
}
