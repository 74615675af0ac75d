using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// The in-process <see cref="IBatchRunner"/> on a <see cref="ModelSession"/>: two <see cref="BatchScorer"/>s over pooled,
/// pinned buffers; while ONNX Runtime scores one batch on a worker thread, the caller's writer fills the next
/// (<see cref="InferenceOptions.Pipelined"/>). Full batches run without managed allocation. With
/// <see cref="InferenceOptions.DeviceResidentBuffers"/> the scorers (and their device tensors and CUDA graphs) are kept
/// from run to run and reused, so device memory is allocated and bound once per concurrent pipeline, not per run.
/// </summary>
internal sealed class MaskedBatchRunner : IBatchRunner, IDisposable
{
    private readonly ModelSession _session;
    private readonly bool _pipelined;
    private readonly List<BatchScorer> _idle = new();
    private int _graphs;
    private long _batches;

    public MaskedBatchRunner(ModelSession session, int batchSize, bool pipelined = true)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "The batch size must be at least 1.");
        if (session.Model.FixedBatchSize is { } size && batchSize != size)
            throw new ArgumentOutOfRangeException(nameof(batchSize),
                $"Model '{session.Model.Source}' runs exactly {size} inputs a call (its export fixes the batch size); {batchSize} cannot be used. " +
                "BatchSizePolicy.Choose gives the size a model runs.");
        (_session, _pipelined) = (session, pipelined);
        BatchSize = batchSize;
    }

    public int OutputSize => _session.Model.OutputSize;

    public ModelOutputKind OutputKind => _session.Model.OutputKind;

    public int BatchSize { get; }

    /// <summary>Model calls this runner has made, over all its runs: how full batches were is passes / (calls × batch size).</summary>
    public long BatchesRun => Interlocked.Read(ref _batches);

    /// <summary>Two batches: one being written while the other runs.</summary>
    public int MaxInFlight => 2 * BatchSize;

    public BatchRunSummary Run(ImageTensor template, int count, BatchInputWriter write, BatchOutputReader read,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        Run(new[] { new BatchJob(template, count, write, read, progress) }, cancellationToken)[0];

    public IReadOnlyList<BatchRunSummary> Run(IReadOnlyList<BatchJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ImageTensor? template = null;
        long total = 0;
        foreach (BatchJob job in jobs)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(job.Count, nameof(jobs));
            if (job.Count == 0) continue;
            template ??= job.Template;
            if (job.Template.Channels != template.Channels || job.Template.Height != template.Height || job.Template.Width != template.Width)
                throw new ArgumentException(
                    $"Jobs sharing batches need one input shape; got {template.Channels}x{template.Height}x{template.Width} and " +
                    $"{job.Template.Channels}x{job.Template.Height}x{job.Template.Width}.", nameof(jobs));
            total += job.Count;
        }
        var passes = new int[jobs.Count];
        var skipped = new int[jobs.Count];
        var ticks = new long[jobs.Count];
        var done = new int[jobs.Count];
        // A run smaller than a batch needs smaller buffers, unless the model's export fixes the batch size.
        int capacity = _session.Model.FixedBatchSize is null ? (int)Math.Min(BatchSize, total) : BatchSize;
        if (template is not null) Run(jobs, template, capacity, passes, skipped, ticks, done, cancellationToken);
        var summaries = new BatchRunSummary[jobs.Count];
        for (int j = 0; j < jobs.Count; j++)
        {
            if (jobs[j].Count > 0 && done[j] < jobs[j].Count) jobs[j].Progress?.Report(jobs[j].Count);
            summaries[j] = new BatchRunSummary(passes[j], skipped[j], TimeSpan.FromTicks(ticks[j]));
        }
        return summaries;
    }

    private void Run(IReadOnlyList<BatchJob> jobs, ImageTensor template, int capacity, int[] passes, int[] skipped, long[] ticks, int[] done,
        CancellationToken cancellationToken)
    {
        using var first = new Batch(this, Rent(template, capacity));
        using var second = new Batch(this, Rent(template, capacity));
        Task? running = null;
        Batch? inFlight = null;

        void Execute(Batch batch)
        {
            long start = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _batches);
            batch.Scorer.Run(batch.Count);
            batch.Ticks = Stopwatch.GetElapsedTime(start).Ticks;
        }

        void Collect(Batch batch)
        {
            // A shared batch's time goes to its jobs in proportion to their items in it.
            int n = batch.Count;
            long share = batch.Ticks / n;
            for (int i = 0; i < n; i++)
            {
                int j = batch.Jobs[i];
                jobs[j].Read(batch.Items[i], batch.Scorer.Scores(i));
                passes[j]++;
                ticks[j] += share;
                if (i == n - 1 || batch.Jobs[i + 1] != j) jobs[j].Progress?.Report(done[j] = batch.Items[i] + 1);
            }
        }

        void Finish()
        {
            if (running is null) return;
            Task task = running;
            running = null;
            task.GetAwaiter().GetResult();
            Collect(inFlight!);
        }

        void Submit(Batch batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!_pipelined)
            {
                Execute(batch);
                Collect(batch);
                return;
            }
            Finish();
            inFlight = batch;
            running = Task.Run(() => Execute(batch), CancellationToken.None);
        }

        try
        {
            Batch current = first;
            for (int j = 0; j < jobs.Count; j++)
            {
                BatchJob job = jobs[j];
                for (int item = 0; item < job.Count; item++)
                {
                    // Checked before each batch is built too, so a cancellation costs at most the batch already running.
                    if (current.Count == 0) cancellationToken.ThrowIfCancellationRequested();
                    if (!job.Write(item, current.Scorer.Input(current.Count)))
                    {
                        skipped[j]++;
                        continue;
                    }
                    current.Jobs[current.Count] = j;
                    current.Items[current.Count++] = item;
                    if (current.Count < capacity) continue;
                    Submit(current);
                    // The other batch was collected by this submission (or never used): it is free to refill.
                    current = current == first ? second : first;
                    current.Count = 0;
                }
            }
            if (current.Count > 0) Submit(current);
            Finish();
        }
        finally
        {
            // Never hand buffers back while ONNX Runtime may still be reading them.
            try { running?.Wait(CancellationToken.None); } catch (AggregateException) { }
        }
    }

    private BatchScorer Rent(ImageTensor template, int capacity)
    {
        if (!_session.Options.DeviceResidentBuffers) return new BatchScorer(_session, template, capacity);
        lock (_idle)
        {
            int i = _idle.FindIndex(s => s.Fits(template));
            if (i >= 0)
            {
                BatchScorer scorer = _idle[i];
                _idle.RemoveAt(i);
                return scorer;
            }
        }
        // Kept scorers always hold a full batch, so one fits every later run of this shape.
        return new BatchScorer(_session, template, BatchSize, Interlocked.Increment(ref _graphs));
    }

    private void Return(BatchScorer scorer)
    {
        if (!_session.Options.DeviceResidentBuffers)
        {
            scorer.Dispose();
            return;
        }
        lock (_idle) _idle.Add(scorer);
    }

    public void Dispose()
    {
        lock (_idle)
        {
            foreach (BatchScorer scorer in _idle) scorer.Dispose();
            _idle.Clear();
        }
    }

    /// <summary>A batch scorer and which job's item fills each of its slots.</summary>
    private sealed class Batch(MaskedBatchRunner runner, BatchScorer scorer) : IDisposable
    {
        public BatchScorer Scorer { get; } = scorer;
        public int[] Jobs { get; } = new int[scorer.Capacity];
        public int[] Items { get; } = new int[scorer.Capacity];
        public int Count { get; set; }
        public long Ticks { get; set; }

        public void Dispose() => runner.Return(Scorer);
    }
}
