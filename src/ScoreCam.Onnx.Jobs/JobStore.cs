using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.ObjectStore;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// A connection to the NATS server and the JetStream streams and object stores of explanation jobs, created on first
/// use (creating them again is harmless). Submitters and workers both hold one.
/// </summary>
public sealed class JobStore : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private INatsJSStream? _deadLetters;

    private JobStore(NatsConnection connection, INatsJSContext js, INatsObjStore models, INatsObjStore pictures, INatsObjStore results) =>
        (_connection, JetStream, Models, Pictures, Results) = (connection, js, models, pictures, results);

    public INatsJSContext JetStream { get; }
    public INatsObjStore Models { get; }
    public INatsObjStore Pictures { get; }
    public INatsObjStore Results { get; }

    /// <summary>
    /// Connects with NATS's own options (URL, credentials file, user and password, token, TLS) and makes sure the
    /// streams and object stores exist; a server that cannot be reached or has no JetStream is a <see cref="ScoreCamException"/>.
    /// </summary>
    public static async Task<JobStore> ConnectAsync(NatsOpts options, CancellationToken cancellationToken = default)
    {
        var connection = new NatsConnection(options);
        try
        {
            await connection.ConnectAsync();
            var js = new NatsJSContext(connection);
            await js.CreateOrUpdateStreamAsync(new StreamConfig(JobNames.ItemStream, [JobNames.ItemSubject])
            {
                Retention = StreamConfigRetention.Workqueue,
                Storage = StreamConfigStorage.File,
            }, cancellationToken);
            await js.CreateOrUpdateStreamAsync(new StreamConfig(JobNames.DeadLetterStream, [JobNames.DeadLetterSubject + ".>"])
            {
                Storage = StreamConfigStorage.File,
                // One dead letter per result key: a newer one replaces the older.
                MaxMsgsPerSubject = 1,
            }, cancellationToken);
            var objects = new NatsObjContext(js);
            var buckets = new List<INatsObjStore>();
            foreach (string name in new[] { JobNames.ModelBucket, JobNames.PictureBucket, JobNames.ResultBucket })
                buckets.Add(await objects.CreateObjectStoreAsync(new NatsObjConfig(name) { Storage = NatsObjStorageType.File }, cancellationToken));
            return new JobStore(connection, js, buckets[0], buckets[1], buckets[2]);
        }
        catch (Exception e) when (e is NatsException or NatsJSException or NatsObjException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new ScoreCamException($"Cannot use the NATS server at {options.Url} for jobs ({e.Message.TrimEnd('.')}). " +
                "Check the address and credentials, and that the server runs with JetStream enabled (nats-server -js).", e);
        }
    }

    /// <summary>Stores <paramref name="content"/> under its content key unless an object of that name is already there; returns the key.</summary>
    public async Task<string> PutContentAsync(INatsObjStore store, byte[] content, CancellationToken cancellationToken = default)
    {
        string key = ContentKey.Of(content);
        if (!await ExistsAsync(store, key, cancellationToken)) await store.PutAsync(key, content, cancellationToken);
        return key;
    }

    public static async Task<bool> ExistsAsync(INatsObjStore store, string key, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.GetInfoAsync(key, cancellationToken: cancellationToken);
            return true;
        }
        catch (NatsObjNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Queues an item; <paramref name="messageId"/> lets the server drop a repeated publish of the same message.</summary>
    public async Task PublishAsync(ExplanationItem item, string messageId, CancellationToken cancellationToken = default)
    {
        PubAckResponse ack = await JetStream.PublishAsync(JobNames.ItemSubject, item.ToBytes(), opts: new NatsJSPubOpts { MsgId = messageId },
            cancellationToken: cancellationToken);
        if (!ack.Duplicate) ack.EnsureSuccess(); // a duplicate is already queued
    }

    public async Task PublishDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken = default)
    {
        PubAckResponse ack = await JetStream.PublishAsync(JobNames.DeadLetter(letter.ResultKey), JsonSerializer.SerializeToUtf8Bytes(letter, ExplanationSpec.JsonOptions),
            cancellationToken: cancellationToken);
        ack.EnsureSuccess();
    }

    /// <summary>The dead letter of a result key, or null when there is none.</summary>
    public async Task<DeadLetter?> DeadLetterAsync(string resultKey, CancellationToken cancellationToken = default)
    {
        INatsJSStream stream = _deadLetters ??= await JetStream.GetStreamAsync(JobNames.DeadLetterStream, cancellationToken: cancellationToken);
        try
        {
            StreamMsgGetResponse response = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = JobNames.DeadLetter(resultKey) }, cancellationToken);
            return JsonSerializer.Deserialize<DeadLetter>(response.Message.Data.Span, ExplanationSpec.JsonOptions);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return null;
        }
    }

    /// <summary>Removes the dead letter of a result key, so that a resubmitted item is waited for afresh.</summary>
    public async Task ForgetDeadLetterAsync(string resultKey, CancellationToken cancellationToken = default)
    {
        INatsJSStream stream = _deadLetters ??= await JetStream.GetStreamAsync(JobNames.DeadLetterStream, cancellationToken: cancellationToken);
        await stream.PurgeAsync(new StreamPurgeRequest { Filter = JobNames.DeadLetter(resultKey) }, cancellationToken);
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}

/// <summary>An item that failed on each of its deliveries, and the last error.</summary>
public sealed record DeadLetter(string ResultKey, string PictureName, string Method, int Deliveries, string Error);
