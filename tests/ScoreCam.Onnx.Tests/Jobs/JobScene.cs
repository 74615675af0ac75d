using System.Text.Json.Nodes;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using ScoreCam.Onnx.Jobs;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Jobs;

/// <summary>
/// What a job test needs: a temp folder with the coloured-squares model and tiny pictures, a real nats-server with its
/// store in that folder, worker processes, and read-outs of the server's streams.
/// </summary>
internal sealed class JobScene : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<WorkerProcess> _workers = new();

    public JobScene(int pictures)
    {
        Model = TestModels.ColouredSquares(TestModels.Head.Softmax).Save(_folder.File("squares.onnx"));
        Pictures = _folder.File("pictures");
        Directory.CreateDirectory(Pictures);
        var random = new Random(pictures);
        for (int i = 0; i < pictures; i++) WritePicture(Path.Combine(Pictures, $"p{i:000}.png"), TestModels.Size, TestModels.Size, random);
        Server = NatsServer.Start(_folder.File("store"));
    }

    public string Model { get; }
    public string Pictures { get; }
    public NatsServer Server { get; }

    public string Folder(string name) => _folder.File(name);

    /// <summary>A red and a green square of random sizes at random places on a dark, slightly noisy background.</summary>
    public static void WritePicture(string path, int width, int height, Random random)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)random.Next(0, 24), (byte)random.Next(0, 24), (byte)random.Next(0, 24));
        foreach (Rgb24 colour in new[] { new Rgb24(230, 20, 20), new Rgb24(20, 220, 30) })
        {
            int side = random.Next(width / 8, width / 3), x0 = random.Next(0, width - side), y0 = random.Next(0, height - side);
            for (int y = y0; y < y0 + side; y++)
                for (int x = x0; x < x0 + side; x++) image[x, y] = colour;
        }
        image.SaveAsPng(path);
    }

    public WorkerProcess StartWorker(string[] arguments, Action<WorkerProcess, string>? onLine = null)
    {
        WorkerProcess worker = WorkerProcess.Start(Server.Url, arguments, onLine);
        _workers.Add(worker);
        return worker;
    }

    public IReadOnlyList<WorkerProcess> Workers => _workers;

    /// <summary>submit's arguments for this scene's model and pictures, small pictures, bounded in time.</summary>
    public string[] Submit(string outDir, params string[] more) =>
        new[] { "submit", "--nats", Server.Url, "--model", Model, "--image", Pictures, "--out-dir", outDir, "--overlay-size", "0", "--quiet" }
            .Concat(more.Contains("--timeout") ? more : more.Concat(new[] { "--timeout", "180" })).ToArray();

    /// <summary>Items waiting in the work queue; 0 before the submitter has made it.</summary>
    public long QueuedItems()
    {
        try
        {
            return StreamState(JobNames.ItemStream).Messages;
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return 0;
        }
    }

    public StreamState StreamState(string stream) => Ask(async js => (await js.GetStreamAsync(stream)).Info.State);

    public ConsumerInfo WorkerConsumer() => Ask(async js => (await js.GetConsumerAsync(JobNames.ItemStream, JobNames.WorkerConsumer)).Info);

    /// <summary>The objects in the results store, by name.</summary>
    public IReadOnlyList<string> StoredResults() => Ask(async js =>
    {
        var store = await new NATS.Client.ObjectStore.NatsObjContext(js).GetObjectStoreAsync(JobNames.ResultBucket);
        var names = new List<string>();
        await foreach (var info in store.ListAsync()) names.Add(info.Name);
        return (IReadOnlyList<string>)names;
    });

    private T Ask<T>(Func<INatsJSContext, Task<T>> question)
    {
        return Task.Run(async () =>
        {
            await using var connection = new NatsConnection(new NatsOpts { Url = Server.Url });
            return await question(new NatsJSContext(connection)).WaitAsync(TimeSpan.FromSeconds(30));
        }).GetAwaiter().GetResult();
    }

    public static JsonNode Results(string outDir) => JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")))!;

    public void Dispose()
    {
        try
        {
            foreach (WorkerProcess worker in _workers) worker.Dispose();
        }
        finally
        {
            Server.Dispose();
            _folder.Dispose();
        }
    }
}
