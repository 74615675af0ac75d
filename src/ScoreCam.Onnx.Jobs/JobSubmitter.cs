using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// Submits a job and collects its results: uploads the model and pictures once (content-addressed), queues one item
/// per picture × method whose result is not stored yet, waits for the workers (results and dead letters), and writes
/// NAME-METHOD.png per result and one results.json, the layout of a local run. Submitting the same job again queues
/// nothing that is done and writes the same files.
/// </summary>
public sealed class JobSubmitter(JobStore store)
{
    public async Task<JobOutcome> RunAsync(JobRequest request, IProgress<JobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var entries = new List<Entry>();
        var failures = new Dictionary<Entry, FailureDocument>();
        int storedBefore = 0, queued = 0;
        try
        {
            string modelKey = await store.PutContentAsync(store.Models, request.Model, cancellationToken);
            ExplanationSpec spec = request.Spec with { ModelKey = modelKey };
            string submission = Guid.NewGuid().ToString("N");
            var queuedKeys = new HashSet<string>(); // two pictures with the same bytes are one item
            foreach (string picture in request.Pictures)
            {
                string? pictureKey = null, error = null;
                try
                {
                    pictureKey = await store.PutContentAsync(store.Pictures, await File.ReadAllBytesAsync(picture, cancellationToken), cancellationToken);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    error = $"Image '{picture}' cannot be read: {e.Message}";
                }
                foreach (IExplanationMethod method in request.Methods)
                {
                    var entry = new Entry(picture, method.Name, pictureKey is null ? null : ExplanationItem.Of(spec, pictureKey, picture, method));
                    entries.Add(entry);
                    if (entry.Item is not { } item)
                        failures[entry] = new FailureDocument(picture, method.Name, error!);
                    else if (await JobStore.ExistsAsync(store.Results, item.ResultKey, cancellationToken))
                        storedBefore++;
                    else if (queuedKeys.Add(item.ResultKey))
                    {
                        await store.ForgetDeadLetterAsync(item.ResultKey, cancellationToken);
                        await store.PublishAsync(item, $"{item.ResultKey}.{submission}", cancellationToken);
                        queued++;
                    }
                }
            }
        }
        catch (Exception e) when (ExplanationWorker.IsConnectionTrouble(e))
        {
            throw new ScoreCamException($"Lost the NATS server while submitting the job ({e.Message.TrimEnd('.')}); submit it again: what is done is skipped.", e);
        }

        var documents = new Dictionary<Entry, ExplanationDocument>();
        BatchDocument? batch = null;
        progress?.Report(new JobProgress(0, failures.Count, entries.Count, null));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            List<Entry> pending = entries.Where(e => !documents.ContainsKey(e) && !failures.ContainsKey(e)).ToList();
            foreach (Entry entry in pending)
            {
                try
                {
                    ExplanationItem item = entry.Item!;
                    if (await JobStore.ExistsAsync(store.Results, item.ResultKey, cancellationToken))
                    {
                        byte[] stored = await store.Results.GetBytesAsync(item.ResultKey, cancellationToken);
                        ExplanationDocument document = ExplanationJson.Deserialize<ExplanationDocument>(stored, $"result {item.ResultKey}");
                        batch ??= document.Batch;
                        documents[entry] = Write(request, entry, document);
                    }
                    else if (await store.DeadLetterAsync(item.ResultKey, cancellationToken) is { } dead)
                        failures[entry] = new FailureDocument(entry.Picture, entry.Method, dead.Error);
                    else
                        continue;
                    progress?.Report(new JobProgress(documents.Count, failures.Count, entries.Count, $"{entry.Picture} {entry.Method}"));
                }
                catch (Exception e) when (ExplanationWorker.IsConnectionTrouble(e))
                {
                    break; // the client reconnects; ask again at the next poll
                }
            }
            if (documents.Count + failures.Count == entries.Count) break;
            if (request.Timeout is { } limit && clock.Elapsed > limit)
                throw new ScoreCamException($"{entries.Count - documents.Count - failures.Count} of {entries.Count} items were not finished within {limit.TotalSeconds:0.#} s " +
                    "(are workers running?); submit the job again to wait on: what is done is skipped. results.json is written once every item is done or failed.");
            await Task.Delay(request.PollInterval, cancellationToken);
        }

        string results = Path.Combine(request.OutputFolder, "results.json");
        AtomicFile.Write(results, ExplanationJson.Serialize(new ExplanationRunDocument
        {
            Model = request.ModelName,
            Batch = batch ?? request.Batch,
            Explanations = entries.Where(documents.ContainsKey).Select(e => documents[e]).ToList(),
            Failed = entries.Where(failures.ContainsKey).Select(e => failures[e]).ToList(),
        }));
        return new JobOutcome(entries.Count, storedBefore, queued, documents.Count, entries.Where(failures.ContainsKey).Select(e => failures[e]).ToList(), results);
    }

    /// <summary>Writes a result's pictures as NAME-METHOD.png (and NAME-METHOD-VIEW.png) and returns its entry of results.json.</summary>
    private static ExplanationDocument Write(JobRequest request, Entry entry, ExplanationDocument stored)
    {
        string name = $"{Path.GetFileNameWithoutExtension(entry.Picture)}-{entry.Method}";
        AtomicFile.Write(Path.Combine(request.OutputFolder, name + ".png"), stored.OverlayPng
            ?? throw new ScoreCamException($"The stored result of {entry.Picture} ({entry.Method}) has no picture; it was not written by a worker."));
        string? attribution = null;
        if (stored.AttributionPng is { } png)
        {
            attribution = $"{name}-{stored.AttributionView}.png";
            AtomicFile.Write(Path.Combine(request.OutputFolder, attribution), png);
        }
        return stored with
        {
            Image = entry.Picture,
            Model = request.ModelName,
            Overlay = name + ".png",
            AttributionPicture = attribution,
            OverlayPng = null,
            AttributionPng = null,
            Batch = null,
        };
    }

    /// <summary>One picture × method of the job; no item when the picture could not be read.</summary>
    private sealed record Entry(string Picture, string Method, ExplanationItem? Item);
}
