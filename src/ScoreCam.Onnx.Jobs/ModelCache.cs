using System.Text.Json;
using NATS.Client.ObjectStore;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// A worker's models and explainers: a model is fetched from the job store once (and kept in the model cache folder
/// when there is one, checked against its content key), and an explainer is built for each model and preprocessing
/// as a local run builds it; the most recently used few stay open.
/// </summary>
internal sealed class ModelCache(JobStore store, WorkerOptions options, TextWriter log) : IDisposable
{
    private readonly List<(string Key, CamExplainer Explainer)> _explainers = new();

    public async Task<ExplanationPipeline> PipelineAsync(ExplanationSpec spec, CancellationToken cancellationToken)
    {
        // Everything the explainer is built from; the method, target and style only shape the pipeline's calls.
        string key = ContentKey.Of(spec.ModelKey, JsonSerializer.Serialize(spec with
        {
            Target = null, Style = PictureStyle.Default, HeatmapValues = false,
        }, ExplanationSpec.JsonOptions));
        int index = _explainers.FindIndex(e => e.Key == key);
        CamExplainer explainer;
        if (index >= 0)
        {
            explainer = _explainers[index].Explainer;
            _explainers.RemoveAt(index);
        }
        else
        {
            byte[] model = await ModelBytesAsync(spec.ModelKey, cancellationToken);
            PreparedModel prepared = ModelPreparer.Prepare(model, $"model {spec.ModelKey[..12]}", spec.Preparation());
            explainer = new CamExplainer(prepared, new ExplainerOptions
            {
                Preparation = spec.Preparation(),
                Inference = options.Inference,
                Preprocess = spec.Preprocess with { Labels = null },
                Labels = spec.Labels,
                MaxImagePixels = spec.MaxImagePixels,
                KeepStoredOrientation = spec.KeepStoredOrientation,
            });
            while (_explainers.Count >= Math.Max(1, options.CachedExplainers))
            {
                _explainers[0].Explainer.Dispose();
                _explainers.RemoveAt(0);
            }
        }
        _explainers.Add((key, explainer));
        return new ExplanationPipeline(explainer, spec.ModelKey) { Style = spec.Style, HeatmapValues = spec.HeatmapValues };
    }

    private async Task<byte[]> ModelBytesAsync(string key, CancellationToken cancellationToken)
    {
        string? path = options.ModelCache is { } folder ? Path.Combine(folder, key + ".onnx") : null;
        if (path is not null && File.Exists(path))
        {
            byte[] cached = await File.ReadAllBytesAsync(path, cancellationToken);
            if (ContentKey.Of(cached) == key) return cached;
            log.WriteLine($"worker: the cached model {path} does not match its key; fetching it again");
        }
        byte[] model;
        try
        {
            model = await store.Models.GetBytesAsync(key, cancellationToken);
        }
        catch (NatsObjNotFoundException e)
        {
            throw new ScoreCamException($"The model {key} is not in the job store; submit the job again to upload it.", e);
        }
        if (ContentKey.Of(model) != key) throw new ScoreCamException($"The job store's model {key} does not match its key; submit the job again to upload it.");
        if (path is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.Write(path, model);
        }
        return model;
    }

    public void Dispose()
    {
        foreach (var (_, explainer) in _explainers) explainer.Dispose();
        _explainers.Clear();
    }
}
