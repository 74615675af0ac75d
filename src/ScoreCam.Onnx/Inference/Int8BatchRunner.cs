using System.Security.Cryptography;
using System.Runtime.InteropServices;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// The <see cref="IBatchRunner"/> of <see cref="InferenceOptions.Int8"/>: runs the batched passes on an int8 QDQ copy
/// of the model (<see cref="Int8Model"/>) on ONNX Runtime's CPU provider, calibrated from the run's own inputs (the
/// jobs' templates and their masked samples) or from fixed calibration pictures. Calibrated copies and their sessions
/// are cached with the runner, keyed by what calibrated them, so repeated passes over one input calibrate once. The
/// float32 session (the unmasked pass, the gradient graphs) is the caller's and is not touched.
/// </summary>
internal sealed class Int8BatchRunner : IBatchRunner, IDisposable
{
    // Copies kept: the current input's and the one before (a service alternating two inputs does not recalibrate).
    private const int CacheCapacity = 2;
    private readonly ModelSession _float32;
    private readonly int _batchSize;
    private readonly bool _pipelined;
    private readonly Int8Options _options;
    private readonly IReadOnlyList<ImageTensor>? _pictures;
    private readonly Lazy<ActivationCalibrator> _calibrator;
    private readonly LinkedList<Entry> _cache = new();
    private readonly object _building = new();
    private long _retiredBatches;
    private int _calibrations;

    /// <summary>
    /// Batched passes on int8 copies of <paramref name="float32"/>'s model (its options, threads included, are reused),
    /// calibrated on <paramref name="pictures"/> for every run, or with null on each run's own inputs.
    /// </summary>
    public Int8BatchRunner(ModelSession float32, int batchSize, bool pipelined, Int8Options options, IReadOnlyList<ImageTensor>? pictures = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "The batch size must be at least 1.");
        options.Validate();
        if (float32.Device != ExecutionDevice.Cpu)
            throw new ScoreCamException("The int8 masked passes run on ONNX Runtime's CPU provider; choose the CPU device for int8, or float16 / TF32 on CUDA.");
        if (pictures is { Count: 0 }) throw new ScoreCamException("The int8 calibration needs at least one picture.");
        (_float32, _pipelined, _options, _pictures) = (float32, pipelined, options, pictures);
        _batchSize = batchSize;
        // Made on first use: finding the tensors to calibrate refuses models the copy cannot be made of.
        _calibrator = new Lazy<ActivationCalibrator>(() => new ActivationCalibrator(float32.Model, options, float32.Options));
        // Checked now, so an unsupported model fails when the explainer is made, not at its first masked pass.
        Int8Model.CalibratedTensors(float32.Model);
    }

    public int OutputSize => _float32.Model.OutputSize;

    public ModelOutputKind OutputKind => _float32.Model.OutputKind;

    public int BatchSize => _batchSize;

    public int MaxInFlight => 2 * _batchSize;

    /// <summary>Model calls made by this runner's int8 sessions, over all runs.</summary>
    public long BatchesRun
    {
        get
        {
            lock (_cache) return Interlocked.Read(ref _retiredBatches) + _cache.Sum(e => e.Runner.BatchesRun);
        }
    }

    /// <summary>Int8 copies calibrated so far (cache misses).</summary>
    public int Calibrations => Volatile.Read(ref _calibrations);

    public BatchRunSummary Run(ImageTensor template, int count, BatchInputWriter write, BatchOutputReader read,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        Run(new[] { new BatchJob(template, count, write, read, progress) }, cancellationToken)[0];

    public IReadOnlyList<BatchRunSummary> Run(IReadOnlyList<BatchJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var pictures = _pictures ?? jobs.Where(j => j.Count > 0).Select(j => j.Template).Distinct(ReferenceEqualityComparer.Instance).Cast<ImageTensor>().ToList();
        if (pictures.Count == 0) return jobs.Select(_ => new BatchRunSummary(0, 0, TimeSpan.Zero)).ToList();
        Entry entry = Acquire(pictures, cancellationToken);
        try
        {
            return entry.Runner.Run(jobs, cancellationToken);
        }
        finally
        {
            Release(entry);
        }
    }

    /// <summary>The int8 runner calibrated on <paramref name="pictures"/>: cached, or calibrated, quantized and opened now.</summary>
    private Entry Acquire(IReadOnlyList<ImageTensor> pictures, CancellationToken cancellationToken)
    {
        string key = Key(pictures);
        if (Find(key) is { } cached) return cached;
        lock (_building)
        {
            if (Find(key) is { } built) return built;
            var ranges = _calibrator.Value.Calibrate(pictures, cancellationToken);
            byte[] graph = Int8Model.Quantize(_float32.Model, ranges);
            var session = new ModelSession(_float32.Model, graph, _float32.Options with { Float16 = false, Int8 = null });
            var entry = new Entry(key, session, new MaskedBatchRunner(session, _batchSize, _pipelined)) { Users = 1 };
            Interlocked.Increment(ref _calibrations);
            lock (_cache)
            {
                _cache.AddFirst(entry);
                while (_cache.Count > CacheCapacity)
                {
                    Entry old = _cache.Last!.Value;
                    _cache.RemoveLast();
                    old.Evicted = true;
                    if (old.Users == 0) Retire(old);
                }
            }
            return entry;
        }
    }

    private Entry? Find(string key)
    {
        lock (_cache)
        {
            for (LinkedListNode<Entry>? node = _cache.First; node is not null; node = node.Next)
            {
                if (node.Value.Key != key) continue;
                _cache.Remove(node);
                _cache.AddFirst(node);
                node.Value.Users++;
                return node.Value;
            }
            return null;
        }
    }

    private void Release(Entry entry)
    {
        lock (_cache)
            if (--entry.Users == 0 && entry.Evicted) Retire(entry);
    }

    private void Retire(Entry entry)
    {
        Interlocked.Add(ref _retiredBatches, entry.Runner.BatchesRun);
        entry.Runner.Dispose();
        entry.Session.Dispose();
    }

    /// <summary>What the copy's ranges depend on: the calibration settings and the pictures' values.</summary>
    private string Key(IReadOnlyList<ImageTensor> pictures)
    {
        if (_pictures is not null) return _options.Fingerprint;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ImageTensor picture in pictures)
        {
            hash.AppendData(MemoryMarshal.AsBytes(picture.Shape(1).AsSpan()));
            hash.AppendData(MemoryMarshal.AsBytes(picture.Data.AsSpan()));
        }
        return _options.Fingerprint + ":" + Convert.ToHexString(hash.GetHashAndReset());
    }

    public void Dispose()
    {
        lock (_cache)
        {
            foreach (Entry entry in _cache) Retire(entry);
            _cache.Clear();
        }
        if (_calibrator.IsValueCreated) _calibrator.Value.Dispose();
    }

    private sealed class Entry(string key, ModelSession session, MaskedBatchRunner runner)
    {
        public string Key { get; } = key;
        public ModelSession Session { get; } = session;
        public MaskedBatchRunner Runner { get; } = runner;
        public int Users { get; set; }
        public bool Evicted { get; set; }
    }
}
