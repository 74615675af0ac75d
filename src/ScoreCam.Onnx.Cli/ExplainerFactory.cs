using System.CommandLine;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Cli;

/// <summary>Builds a <see cref="CamExplainer"/> from the shared flags, falling back to the embedded default model.</summary>
internal static class ExplainerFactory
{
    public static CamExplainer Create(ParseResult r, ModelOptions flags, IExplanationMethod method, ILogger logger, out string modelName, int? batchSize = null, int threads = 0,
        long? maxBatchMemory = null, string? scoreOutput = null, string? precision = null)
    {
        string? path = r.GetValue(flags.Model);
        ModelPreparationOptions preparation = flags.Preparation(r);
        if (scoreOutput is not null) preparation = preparation with { OutputName = scoreOutput };
        PreparedModel model = path is null
            ? ModelPreparer.Prepare(EmbeddedDefaults.Model(), EmbeddedDefaults.ModelName, preparation)
            : ModelPreparer.Prepare(path, preparation);
        PreprocessOptions preprocess = flags.Preprocess(r, path is null ? EmbeddedDefaults.Preprocess() : PreprocessOptions.FromSidecar(path), model);
        IReadOnlyList<string>? labels = preprocess.Labels is { } file ? LabelsFile.Read(file, model.OutputSize)
            : path is null ? EmbeddedDefaults.Labels() : null;
        modelName = path ?? EmbeddedDefaults.ModelName;
        return new CamExplainer(model, new ExplainerOptions
        {
            Inference = flags.Inference(r, precision) with { IntraOpThreads = threads, BatchSize = batchSize, MaxBatchMemoryBytes = maxBatchMemory },
            Preprocess = preprocess,
            Labels = labels,
            Method = method,
            MaxImagePixels = flags.MaxPixels(r),
            KeepStoredOrientation = r.GetValue(flags.KeepOrientation),
            Logger = logger,
        });
    }
}
