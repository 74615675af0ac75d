using System.CommandLine;
using System.Runtime.InteropServices;
using ScoreCam.Onnx.Jobs;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary><c>scorecam worker</c>: explains items of submitted jobs from a NATS JetStream work queue until stopped (Ctrl+C, SIGTERM).</summary>
internal static class WorkerCommand
{
    public static Command Create(TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        var nats = new NatsOptions();
        var model = new ModelOptions();
        var modelCache = new Option<string?>("--model-cache") { Description = "Folder that keeps fetched models across restarts (by content hash). Default: memory only." };
        var prefetch = new Option<int>("--prefetch") { Description = "Items pulled at once; those of one model and method run in shared batches.", DefaultValueFactory = _ => new WorkerOptions().Prefetch };
        var ackWait = new Option<double>("--ack-wait") { Description = "Seconds an item may go unacknowledged before it is delivered again (a busy worker extends it).", DefaultValueFactory = _ => new QueuePolicy().AckWait.TotalSeconds };
        var maxDeliveries = new Option<int>("--max-deliveries") { Description = "Deliveries of a failing item before it becomes a dead letter.", DefaultValueFactory = _ => new QueuePolicy().MaxDeliveries };
        var command = new Command("worker", "Explain the items of jobs submitted with `scorecam submit`, from a NATS JetStream work queue, until stopped.")
        {
            modelCache, prefetch, ackWait, maxDeliveries, model.Device, model.Precision, model.Calibration, model.IoBinding, model.CudaGraphs, model.Batch, model.MaxMemory,
        };
        nats.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            if (r.GetValue(prefetch) is < 1 or > 256) throw new UsageException($"--prefetch must be between 1 and 256; got {r.GetValue(prefetch)}.");
            if (!(r.GetValue(ackWait) is >= 1 and <= 3600)) throw new UsageException($"--ack-wait must be between 1 and 3600 seconds; got {r.GetValue(ackWait)}.");
            if (r.GetValue(maxDeliveries) is < 2 or > 100) throw new UsageException($"--max-deliveries must be between 2 and 100; got {r.GetValue(maxDeliveries)}.");
            var options = new WorkerOptions
            {
                Queue = new QueuePolicy { AckWait = TimeSpan.FromSeconds(r.GetValue(ackWait)), MaxDeliveries = r.GetValue(maxDeliveries) },
                Prefetch = r.GetValue(prefetch),
                ModelCache = r.GetValue(modelCache),
                Inference = model.Inference(r) with { BatchSize = model.BatchSize(r), MaxBatchMemoryBytes = model.MaxBatchMemory(r) },
            };
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
            return Run(nats.Options(r, "scorecam worker"), options, output, stop.Token).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Run(NATS.Client.Core.NatsOpts nats, WorkerOptions options, TextWriter output, CancellationToken cancellation)
    {
        await using JobStore store = await JobStore.ConnectAsync(nats, cancellation);
        using var worker = new ExplanationWorker(store, options, output);
        try
        {
            await worker.RunAsync(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Items in hand are not acked: the queue delivers them again.
        }
        output.WriteLine("worker: stopped");
        return CliApp.Ok;
    }
}
