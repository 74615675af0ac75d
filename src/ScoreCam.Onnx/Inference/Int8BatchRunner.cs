using System.Security.Cryptography;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// The <see cref="IBatchRunner"/> of <see cref="InferenceOptions.Int8"/>: runs the batched passes on an int8 QDQ copy
/// of the model (<see cref="Int8Model"/>) on ONNX Runtime's CPU provider, calibrated from the run's own inputs (the
/// jobs' templates and their masked samples) or from fixed calibration pictures. Calibrated copies and their sessions
/// are cached with the runner, keyed by what calibrated them, so repeated passes over one input calibrate once; with
/// <see cref="Int8Options.CacheFolder"/> the copies are also written there and read back by later runners. The
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
    // The fixed pictures' part of the key, hashed once.
    private readonly string? _picturesKey;
    private readonly Lazy<ActivationCalibrator> _calibrator;
    // What a copy on disk depends on besides its calibration: the prepared graph and the quantizer.
    private readonly Lazy<byte[]> _modelHash;
    private readonly ILogger _logger;
    private readonly LinkedList<Entry> _cache = new();
    private readonly object _building = new();
    private long _retiredBatches;
    private int _calibrations;

    /// <summary>
    /// Batched passes on int8 copies of <paramref name="float32"/>'s model (its options, threads included, are reused),
    /// calibrated on <paramref name="pictures"/> for every run, or with null on each run's own inputs. A cached copy
    /// that cannot be read or written is reported to <paramref name="logger"/> and calibrated in memory instead.
    /// </summary>
    public Int8BatchRunner(ModelSession float32, int batchSize, bool pipelined, Int8Options options, IReadOnlyList<ImageTensor>? pictures = null,
        ILogger? logger = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "The batch size must be at least 1.");
        options.Validate();
        if (float32.Device != ExecutionDevice.Cpu)
            throw new ScoreCamException("The int8 masked passes run on ONNX Runtime's CPU provider; choose the CPU device for int8, or float16 / TF32 on CUDA.");
        if (pictures is { Count: 0 }) throw new ScoreCamException("The int8 calibration needs at least one picture.");
        (_float32, _pipelined, _options, _pictures) = (float32, pipelined, options, pictures);
        _batchSize = batchSize;
        _logger = logger ?? NullLogger.Instance;
        _picturesKey = pictures is null ? null : PicturesHash(pictures);
        // Made on first use: finding the tensors to calibrate refuses models the copy cannot be made of.
        _calibrator = new Lazy<ActivationCalibrator>(() => new ActivationCalibrator(float32.Model, options, float32.Options));
        _modelHash = new Lazy<byte[]>(() => ModelHash(float32.Model));
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

    /// <summary>The int8 runner calibrated on <paramref name="pictures"/>: cached, read from the cache folder, or calibrated, quantized and opened now.</summary>
    private Entry Acquire(IReadOnlyList<ImageTensor> pictures, CancellationToken cancellationToken)
    {
        string key = Key(pictures);
        if (Find(key) is { } cached) return cached;
        lock (_building)
        {
            if (Find(key) is { } built) return built;
            ModelSession session = Copy(pictures, key, cancellationToken);
            var entry = new Entry(key, session, new MaskedBatchRunner(session, _batchSize, _pipelined)) { Users = 1 };
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

    /// <summary>A session of the copy for <paramref name="key"/>: the cache folder's file when it holds one, else calibrated now (and written there).</summary>
    private ModelSession Copy(IReadOnlyList<ImageTensor> pictures, string key, CancellationToken cancellationToken)
    {
        string? path = CachePath(key);
        if (path is not null && File.Exists(path))
        {
            try
            {
                return Open(File.ReadAllBytes(path));
            }
            catch (Exception e) when (e is ScoreCamException or IOException or UnauthorizedAccessException)
            {
                ExplainerLog.CacheWarning(_logger, $"The cached int8 copy '{path}' cannot be used ({e.Message.TrimEnd('.')}); calibrating it again.");
            }
        }
        var ranges = _calibrator.Value.Calibrate(pictures, cancellationToken);
        byte[] graph = Int8Model.Quantize(_float32.Model, ranges);
        Interlocked.Increment(ref _calibrations);
        ModelSession session = Open(graph);
        if (path is null) return session;
        try
        {
            AtomicFile.Write(path, graph);
        }
        catch (ScoreCamException e)
        {
            ExplainerLog.CacheWarning(_logger, $"The int8 copy is not cached: {e.Message}");
        }
        return session;
    }

    private ModelSession Open(byte[] graph) => new(_float32.Model, graph, _float32.Options with { Float16 = false, Int8 = null });

    /// <summary>
    /// The copy's file in the cache folder: the model's name and a hash of everything the graph depends on (prepared
    /// model, quantizer version, calibration settings and pictures); null without a cache folder.
    /// </summary>
    private string? CachePath(string key)
    {
        if (_options.CacheFolder is not { } folder) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(_modelHash.Value);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(key));
        string name = new(Path.GetFileNameWithoutExtension(_float32.Model.Source).Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.').Take(48).ToArray());
        return Path.Combine(folder, $"{(name.Length > 0 ? name : "model")}.int8-{Convert.ToHexString(hash.GetHashAndReset())[..32].ToLowerInvariant()}.onnx");
    }

    private static byte[] ModelHash(PreparedModel model)
    {
        using var sha = SHA256.Create();
        using (var stream = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write))
        {
            stream.Write(BitConverter.GetBytes(Int8Model.Version));
            model.Proto.WriteTo(stream);
        }
        return sha.Hash!;
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
    private string Key(IReadOnlyList<ImageTensor> pictures) => _options.Fingerprint + ":" + (_picturesKey ?? PicturesHash(pictures));

    private static string PicturesHash(IReadOnlyList<ImageTensor> pictures)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ImageTensor picture in pictures)
        {
            hash.AppendData(MemoryMarshal.AsBytes(picture.Shape(1).AsSpan()));
            hash.AppendData(MemoryMarshal.AsBytes(picture.Data.AsSpan()));
        }
        return Convert.ToHexString(hash.GetHashAndReset());
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
