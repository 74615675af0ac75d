using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// The in-process <see cref="IBatchRunner"/> on a <see cref="ModelSession"/>: two <see cref="BatchScorer"/>s over pooled,
/// pinned buffers; while ONNX Runtime scores one batch on a worker thread, the caller's writer fills the next
/// (<see cref="InferenceOptions.Pipelined"/>). Full batches run without managed allocation.
/// </summary>
public sealed class MaskedBatchRunner : IBatchRunner
{
    private readonly ModelSession _session;
    private readonly bool _pipelined;

    public MaskedBatchRunner(ModelSession session, int batchSize, bool pipelined = true)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "The batch size must be at least 1.");
        (_session, _pipelined) = (session, pipelined);
        BatchSize = Math.Min(batchSize, session.MaxBatch);
    }

    public int OutputSize => _session.Model.OutputSize;

    public ModelOutputKind OutputKind => _session.Model.OutputKind;

    public int BatchSize { get; }

    /// <summary>Two batches: one being written while the other runs.</summary>
    public int MaxInFlight => 2 * BatchSize;

    public BatchRunSummary Run(ImageTensor template, int count, BatchInputWriter write, BatchOutputReader read,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0) return default;
        int capacity = Math.Min(BatchSize, count);
        using var first = new BatchScorer(_session, template, capacity);
        using var second = new BatchScorer(_session, template, capacity);
        var items = new Dictionary<BatchScorer, int[]> { [first] = new int[capacity], [second] = new int[capacity] };
        long inferenceTicks = 0;
        int passes = 0, skipped = 0, done = 0;
        Task? running = null;
        (BatchScorer? Scorer, int Count) inFlight = default;

        void Execute(BatchScorer scorer, int n)
        {
            long start = Stopwatch.GetTimestamp();
            scorer.Run(n);
            Interlocked.Add(ref inferenceTicks, Stopwatch.GetElapsedTime(start).Ticks);
        }

        void Collect(BatchScorer scorer, int n)
        {
            int[] order = items[scorer];
            for (int i = 0; i < n; i++) read(order[i], scorer.Scores(i));
            passes += n;
            progress?.Report(done = order[n - 1] + 1);
        }

        void Finish()
        {
            if (running is null) return;
            Task task = running;
            running = null;
            task.GetAwaiter().GetResult();
            Collect(inFlight.Scorer!, inFlight.Count);
        }

        void Submit(BatchScorer scorer, int n)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_pipelined)
            {
                Execute(scorer, n);
                Collect(scorer, n);
                return;
            }
            Finish();
            inFlight = (scorer, n);
            running = Task.Run(() => Execute(scorer, n), CancellationToken.None);
        }

        try
        {
            BatchScorer current = first;
            int filled = 0;
            for (int item = 0; item < count; item++)
            {
                // Checked before each batch is built too, so a cancellation costs at most the batch already running.
                if (filled == 0) cancellationToken.ThrowIfCancellationRequested();
                if (!write(item, current.Input(filled)))
                {
                    skipped++;
                    continue;
                }
                items[current][filled++] = item;
                if (filled < capacity) continue;
                Submit(current, filled);
                current = current == first ? second : first;
                filled = 0;
            }
            if (filled > 0) Submit(current, filled);
            Finish();
        }
        finally
        {
            // Never hand buffers back while ONNX Runtime may still be reading them.
            try { running?.Wait(CancellationToken.None); } catch (AggregateException) { }
        }
        if (done < count) progress?.Report(count);
        return new BatchRunSummary(passes, skipped, TimeSpan.FromTicks(inferenceTicks));
    }
}
