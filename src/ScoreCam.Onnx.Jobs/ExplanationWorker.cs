using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.ObjectStore;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// Takes explanation items from the work queue (a durable pull consumer with explicit acks) and runs them through the
/// library's <see cref="ExplanationPipeline"/>, as a local run does. A result is stored under its key before the item
/// is acked, so a worker that dies before the ack loses nothing: the item is delivered again after the ack wait,
/// and a worker that finds the result already stored acks it without explaining it again. An item that fails on each
/// of its deliveries goes to the dead letters with its error. Writes one line per item to the log.
/// </summary>
public sealed class ExplanationWorker(JobStore store, WorkerOptions options, TextWriter log) : IDisposable
{
    private readonly ModelCache _models = new(store, options, log);

    /// <summary>Works until cancelled; a lost connection is waited out (the client reconnects), other errors fail the item at hand.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        options.Queue.Validate();
        QueuePolicy policy = options.Queue;
        INatsJSConsumer consumer = await store.JetStream.CreateOrUpdateConsumerAsync(JobNames.ItemStream, new ConsumerConfig(JobNames.WorkerConsumer)
        {
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = policy.AckWait,
            MaxDeliver = policy.MaxDeliveries,
            Backoff = policy.Backoff(),
        }, cancellationToken);
        Log($"worker: waiting for items on {JobNames.ItemStream} (prefetch {options.Prefetch}, ack wait {policy.AckWait.TotalSeconds:0.#} s, {policy.MaxDeliveries} deliveries)");
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                List<NatsJSMsg<byte[]>> batch = await NextAsync(consumer, cancellationToken);
                if (batch.Count > 0) await ProcessAsync(batch, cancellationToken);
            }
            catch (Exception e) when (IsConnectionTrouble(e) && !cancellationToken.IsCancellationRequested)
            {
                Log($"worker: NATS unavailable ({e.Message.TrimEnd('.')}); retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <summary>What is waiting, up to the prefetch count; when nothing is, waits a few seconds for the next item.</summary>
    private async Task<List<NatsJSMsg<byte[]>>> NextAsync(INatsJSConsumer consumer, CancellationToken cancellationToken)
    {
        var batch = new List<NatsJSMsg<byte[]>>();
        await foreach (NatsJSMsg<byte[]> msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = options.Prefetch }, cancellationToken: cancellationToken))
            batch.Add(msg);
        if (batch.Count > 0) return batch;
        await foreach (NatsJSMsg<byte[]> msg in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1, Expires = TimeSpan.FromSeconds(5) },
            cancellationToken: cancellationToken))
            batch.Add(msg);
        if (batch.Count == 0) return batch;
        await foreach (NatsJSMsg<byte[]> msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = options.Prefetch - 1 }, cancellationToken: cancellationToken))
            batch.Add(msg);
        return batch;
    }

    private async Task ProcessAsync(List<NatsJSMsg<byte[]>> batch, CancellationToken cancellationToken)
    {
        var pending = new List<Work>();
        foreach (NatsJSMsg<byte[]> msg in batch)
        {
            try
            {
                pending.Add(new Work(msg, ExplanationItem.FromBytes(msg.Data)));
            }
            catch (JsonException e)
            {
                // Not an item at all: no delivery will make it one.
                Log($"dropped: message {msg.Metadata?.Sequence.Stream} is not an explanation item ({e.Message})");
                await msg.AckTerminateAsync(cancellationToken: cancellationToken);
            }
        }
        using var keepAlive = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task progress = KeepAliveAsync(pending.ToArray(), keepAlive.Token);
        try
        {
            foreach (Work work in pending.ToList())
                if (await JobStore.ExistsAsync(store.Results, work.Item.ResultKey, cancellationToken))
                {
                    await AckAsync(work, "stored before", cancellationToken);
                    pending.Remove(work);
                }
            foreach (var group in pending.GroupBy(w => (Spec: w.Item.Spec.ToJson(), w.Item.Method, Settings: string.Join(';', w.Item.Settings.Select(s => $"{s.Key}={s.Value}")))).ToList())
                await ExplainAsync(group.ToList(), cancellationToken);
        }
        finally
        {
            keepAlive.Cancel();
            try { await progress; } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Tells the server, every third of the ack wait, that the items in hand are being worked on, so that they are not delivered elsewhere.</summary>
    private async Task KeepAliveAsync(Work[] works, CancellationToken cancellationToken)
    {
        TimeSpan interval = options.Queue.AckWait / 3;
        while (true)
        {
            await Task.Delay(interval, cancellationToken);
            foreach (Work work in works)
                if (!work.Settled)
                    try { await work.Message.AckProgressAsync(cancellationToken: cancellationToken); }
                    catch (Exception e) when (IsConnectionTrouble(e)) { }
        }
    }

    /// <summary>Explains items of one spec and method together; a failure that the shared run cannot pin on one item is retried item by item.</summary>
    private async Task ExplainAsync(List<Work> works, CancellationToken cancellationToken)
    {
        ExplanationSpec spec = works[0].Item.Spec;
        ExplanationPipeline pipeline;
        IExplanationMethod method;
        try
        {
            pipeline = await _models.PipelineAsync(spec, cancellationToken);
            method = works[0].Item.CreateMethod();
        }
        catch (Exception e) when (IsItemError(e))
        {
            foreach (Work work in works) await FailAsync(work, Describe(e), cancellationToken);
            return;
        }

        var loaded = new List<(Work Work, PictureInput Input)>();
        try
        {
            foreach (Work work in works)
            {
                try
                {
                    byte[] picture = await store.Pictures.GetBytesAsync(work.Item.PictureKey, cancellationToken);
                    loaded.Add((work, pipeline.Load(new MemoryStream(picture, writable: false), work.Item.PictureName)));
                }
                catch (NatsObjNotFoundException)
                {
                    await FailAsync(work, $"The picture '{work.Item.PictureName}' ({work.Item.PictureKey}) is not in the job store; submit the job again.", cancellationToken);
                }
                catch (Exception e) when (IsItemError(e))
                {
                    await FailAsync(work, Describe(e), cancellationToken);
                }
            }
            if (loaded.Count == 0) return;
            ExplanationTarget target = spec.ExplanationTarget();
            IReadOnlyList<ExplainedPicture>? results = null;
            try
            {
                results = await Task.Run(() => pipeline.ExplainMany(loaded.Select(l => l.Input).ToList(), method, target, cancellationToken), cancellationToken);
            }
            catch (Exception e) when (IsItemError(e) && loaded.Count > 1)
            {
                // Find which input it was: explain them one by one below.
            }
            for (int i = 0; i < loaded.Count; i++)
            {
                ExplainedPicture result;
                try
                {
                    int index = i;
                    result = results?[i] ?? await Task.Run(() => pipeline.Explain(loaded[index].Input, method, new ExplanationRequest { Target = target },
                        cancellationToken: cancellationToken), cancellationToken);
                }
                catch (Exception e) when (IsItemError(e))
                {
                    await FailAsync(loaded[i].Work, Describe(e), cancellationToken);
                    continue;
                }
                await StoreAsync(loaded[i].Work, pipeline, result, cancellationToken);
            }
        }
        finally
        {
            foreach (var (_, input) in loaded) input.Dispose();
        }
    }

    /// <summary>The result as the HTTP service answers it (the JSON with its PNGs inside), then the ack.</summary>
    private async Task StoreAsync(Work work, ExplanationPipeline pipeline, ExplainedPicture result, CancellationToken cancellationToken)
    {
        byte[] stored = ExplanationJson.Serialize(result.Document with
        {
            Batch = ExplanationJson.Of(pipeline.Explainer.BatchSizeChoice),
            OverlayPng = result.Pictures.OverlayPng,
            AttributionPng = result.Pictures.AttributionPng,
        });
        await store.Results.PutAsync(work.Item.ResultKey, stored, cancellationToken);
        await AckAsync(work, "computed", cancellationToken);
    }

    private async Task AckAsync(Work work, string how, CancellationToken cancellationToken)
    {
        await work.Message.AckAsync(new AckOpts { DoubleAck = true }, cancellationToken);
        work.Settled = true;
        Log($"acked {work.Item.ResultKey} {work.Item.PictureName} {work.Item.Method} ({how})");
    }

    /// <summary>Asks for another delivery after a growing delay, or, on the last delivery, files a dead letter and ends the item.</summary>
    private async Task FailAsync(Work work, string error, CancellationToken cancellationToken)
    {
        int delivered = (int)(work.Message.Metadata?.NumDelivered ?? 1);
        if (delivered >= options.Queue.MaxDeliveries)
        {
            await store.PublishDeadLetterAsync(new DeadLetter(work.Item.ResultKey, work.Item.PictureName, work.Item.Method, delivered, error), cancellationToken);
            await work.Message.AckTerminateAsync(cancellationToken: cancellationToken);
            Log($"dead letter {work.Item.ResultKey} {work.Item.PictureName} {work.Item.Method} after {delivered} deliveries: {error}");
        }
        else
        {
            await work.Message.NakAsync(new AckOpts { NakDelay = options.Queue.Delay(delivered) }, cancellationToken);
            Log($"failed {work.Item.ResultKey} {work.Item.PictureName} {work.Item.Method} (delivery {delivered} of {options.Queue.MaxDeliveries}): {error}");
        }
        work.Settled = true;
    }

    private static string Describe(Exception e) => e is ScoreCamException ? e.Message : $"{e.GetType().Name}: {e.Message}";

    /// <summary>Errors of the server or the connection, as opposed to errors of the item.</summary>
    internal static bool IsConnectionTrouble(Exception e) => e is NatsException or NatsJSException or (NatsObjException and not NatsObjNotFoundException) or TimeoutException;

    private static bool IsItemError(Exception e) => !IsConnectionTrouble(e) && e is not OperationCanceledException;

    private void Log(string line)
    {
        lock (log) log.WriteLine(line);
    }

    public void Dispose() => _models.Dispose();

    private sealed class Work(NatsJSMsg<byte[]> message, ExplanationItem item)
    {
        public NatsJSMsg<byte[]> Message { get; } = message;
        public ExplanationItem Item { get; } = item;
        public volatile bool Settled;
    }
}
