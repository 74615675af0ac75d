using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam bench</c>: end-to-end explanation time against its floor, the same number of forward passes on
/// unmasked inputs at the same batch size, for each configuration (method × channels × batch size × images per call
/// × target classes), all on one ONNX Runtime session, run by run interleaved across configurations and against the
/// floor. Medians.
/// </summary>
internal static class BenchCommand
{
    private const string Auto = "auto", AllChannels = "all";

    /// <summary>Upper bound on --images: far beyond a useful value, so that a typo is a usage error rather than an allocation failure.</summary>
    internal const int MaxImages = 1024;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var methodFlags = new MethodOptions();
        var image = new Option<string?>("--image") { Description = "Picture to explain. Default: the embedded sample canvas." };
        var method = new Option<string>("--method") { Description = $"Methods to measure, comma-separated, from: {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam" };
        var batches = new Option<string>("--batch") { Description = "Batch sizes to measure, comma-separated; auto: the size chosen for the model (within --max-memory).", DefaultValueFactory = _ => Auto };
        var images = new Option<string>("--images") { Description = "Images per call, comma-separated: copies of the picture explained together (ExplainMany), sharing batches.", DefaultValueFactory = _ => "1" };
        var targets = new Option<string>("--targets") { Description = "Target classes per call, comma-separated: the top predictions (a detector's most confident detections; with --region, the classes a segmenter assigns the most pixels), explained from one set of passes.", DefaultValueFactory = _ => "1" };
        var channels = new Option<string>("--channels") { Description = "Score-CAM: channel counts K to measure, comma-separated (top K by --channel-ranking); all: every channel (the paper).", DefaultValueFactory = _ => AllChannels };
        var runs = new Option<int>("--runs") { Description = "Measured runs per configuration (after one warm-up).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core).", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the figures as JSON." };
        var peak = new Option<bool>("--peak")
        {
            Description = "Also measure the attainable float32 and int8 throughput of ONNX Runtime on this machine (large MatMul, MatMulInteger, 1x1 and 3x3 convolutions, " +
                "same threads), count a forward pass's FLOPs from the graph, and print each floor's throughput as a share of its precision's peak.",
        };
        var detectionFlags = new DetectionOptions();
        var segmentation = new SegmentationOptions();
        var command = new Command("bench", "Measure explanation time against the forward-pass floor.") { image, method, batches, images, targets, channels, runs, threads, json, peak };
        methodFlags.AddTo(command, except: ScoreCamMethod.Channels);
        model.AddTo(command, batch: false);
        model.AddFeeds(command);
        detectionFlags.AddScoringTo(command);
        segmentation.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            int?[] sizes = List(r.GetValue(batches)!, "--batch", Auto, ModelOptions.MaxBatch);
            int[] imageCounts = List(r.GetValue(images)!, "--images", null, MaxImages).Select(n => n!.Value).ToArray();
            int[] targetCounts = List(r.GetValue(targets)!, "--targets", null, int.MaxValue).Select(n => n!.Value).ToArray();
            int?[] channelCounts = List(r.GetValue(channels)!, "--channels", AllChannels, int.MaxValue);
            int runCount = r.GetValue(runs);
            if (runCount < 1) throw new UsageException("--runs must be at least 1.");
            if (r.GetValue(threads) < 0) throw new UsageException($"--threads must be 0 (one per core) or more; got {r.GetValue(threads)}.");
            List<(IExplanationMethod Method, bool UsesChannels, int? Channels)> methods = Methods(r.GetValue(method)!, methodFlags.Settings(r), channelCounts);
            // --precision may list several: one explainer (its own sessions) each, measured interleaved.
            string[] precisions = r.GetValue(model.Precision)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (precisions.Length == 0 || precisions.Distinct(StringComparer.OrdinalIgnoreCase).Count() != precisions.Length)
                throw new UsageException($"--precision must list distinct precisions; got '{r.GetValue(model.Precision)}'.");
            var explainers = new List<CamExplainer>();
            using var disposer = new Disposer(explainers);
            string modelName = "";
            foreach (string precision in precisions)
                explainers.Add(ExplainerFactory.Create(r, model, methods[0].Method, new WarningLogger(error.WriteLine), out modelName,
                    threads: r.GetValue(threads), precision: precision));
            CamExplainer explainer = explainers[0];
            string[] labels = precisions.Select((p, e) => PrecisionLabel(p, explainers[e].Session.Device)).ToArray();
            if (labels.Distinct().Count() != labels.Length)
                throw new UsageException($"--precision {r.GetValue(model.Precision)}: tf32 and fp32 are the same on the CPU (TF32 is a CUDA tensor-core mode); name one.");
            using Image<Rgb24> picture = r.GetValue(image) is { } path ? explainer.LoadImage(path) : EmbeddedDefaults.SampleImage();
            ImageTensor input = explainer.Preprocess(picture);
            // A detector's targets are its detections, most confident first; a segmenter's (with --region) its classes, most
            // pixels first; a classifier's its classes, most probable first.
            DetectionSettings detection = detectionFlags.Settings(r);
            ExplanationTarget[] ranking;
            if (detection.Detector(explainer) is var (head, template))
            {
                ranking = head.Detect(explainer.Embed(input), detection.Confidence, detection.Iou)
                    .Select(d => (ExplanationTarget)(template with { Box = d.Box, ClassIndex = d.ClassIndex })).ToArray();
                if (targetCounts.Max() > ranking.Length)
                    throw new UsageException($"--targets {targetCounts.Max()}: the picture has {ranking.Length} detections at --confidence {detection.Confidence} or more.");
            }
            else if (segmentation.RegionOf(r) is { } region)
            {
                // A segmenter's targets are the classes it finds in the picture, most pixels first, each over the region.
                ranking = SegmentationOptions.Ranking(explainer, input, region);
                if (targetCounts.Max() > ranking.Length)
                    throw new UsageException($"--targets {targetCounts.Max()}: the segmenter assigns pixels to {ranking.Length} classes in the picture.");
            }
            else
            {
                float[] p = explainer.Probabilities(input);
                if (targetCounts.Max() > p.Length) throw new UsageException($"--targets {targetCounts.Max()}: the model has {p.Length} outputs.");
                ranking = Enumerable.Range(0, p.Length).OrderByDescending(c => p[c]).ThenBy(c => c).Select(ExplanationTarget.Class).ToArray();
            }
            if (sizes.Contains(null)) output.WriteLine($"auto: batch {explainer.BatchSize} ({explainer.BatchSizeChoice.Reason})");

            // One session per precision; each batch size is a view on it.
            var configs = new List<Configuration>();
            for (int e = 0; e < explainers.Count; e++)
                foreach (int? batch in sizes)
                {
                    CamExplainer view = batch is null ? explainers[e] : explainers[e].WithBatchSize(batch);
                    foreach (var (m, usesChannels, k) in methods)
                        foreach (int n in imageCounts)
                            foreach (int t in targetCounts)
                                configs.Add(new Configuration(view, labels[e], batch is null, m,
                                    usesChannels ? k?.ToString(CultureInfo.InvariantCulture) ?? AllChannels : "-", k, Enumerable.Repeat(input, n).ToArray(), ranking[..t]));
                }
            Measure(configs, runCount);
            (long Flops, IReadOnlyList<PeakKernel> Kernels)? peaks = r.GetValue(peak)
                ? (ForwardPassCost.Flops(explainer.Model, input.Height, input.Width), AttainablePeak.Measure(r.GetValue(threads)))
                : null;

            double peakMb = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1);
            output.WriteLine("method          precision    K  batch  images  targets  passes  wall_ms  floor_ms  ratio  outside_ort  passes/s  fill   ms/image  alloc_KB/call  first_ms");
            var rows = new List<Dictionary<string, object?>>();
            foreach (Configuration c in configs)
            {
                Dictionary<string, object?> row = c.Row(runCount);
                row["model"] = modelName;
                row["device"] = explainer.Session.Device.ToString();
                row["peak_working_set_mb"] = peakMb;
                if (peaks is { } pk) AddPeakShare(row, c.Precision == "int8", pk.Flops, pk.Kernels);
                rows.Add(row);
                string fill = row["batch_fill"] is double f ? f.ToString("0.000", CultureInfo.InvariantCulture) : "-";
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{c.Method.Name,-15} {c.Precision,-9} {c.ChannelsLabel,4}  {(c.Auto ? $"{c.View.BatchSize}*" : c.View.BatchSize),5}  {c.Images.Length,6}  {c.Targets.Length,7}  {row["forward_passes"],6}  {row["wall_ms"],7:0.0}  {row["floor_ms"],8:0.0}  {row["ratio"],5:0.000}  {row["outside_ort_share"],11:0.000}  {row["passes_per_second"],8:0.0}  {fill,5}  {row["ms_per_image"],8:0.0}  {row["allocated_kb_per_call"],13:0.0}  {row["first_call_ms"],8:0.0}"));
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"peak working set of the run: {peakMb:0} MB{(sizes.Contains(null) ? "; * the size chosen for the model" : "")}; fill: masked passes / (model calls × batch size); first_ms: the first call (warm-up; for int8 it calibrates and quantizes the copy)"));
            if (peaks is { } p2)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"attainable peak ({(r.GetValue(threads) == 0 ? "one thread per core" : $"{r.GetValue(threads)} threads")}), best of 5 (median):"));
                foreach (PeakKernel k in p2.Kernels)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {k.Name,-46} {k.BestGigaOpsPerSecond,7:0.0} ({k.MedianGigaOpsPerSecond:0.0}) G{(k.Int8 ? "OP" : "FLOP")}/s"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"forward pass: {p2.Flops / 1e9:0.000} GFLOP (Conv, Gemm, MatMul); floor throughput as a share of its precision's best peak:"));
                foreach (var row in rows)
                {
                    string above = (double)row["peak_share"]! > 1 ? " (above the measured peak: the load on the machine changed between the two; measure on a quiet machine)" : "";
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {row["method"],-15} {row["precision"],-9} batch {row["batch"],3}  {row["floor_gops_per_s"],7:0.0} G/s of {row["peak_gops_per_s"],7:0.0}: {row["peak_share"]:P1}{above}"));
                }
            }
            if (r.GetValue(json) is { } jsonPath)
                AtomicFile.Write(jsonPath, JsonSerializer.SerializeToUtf8Bytes(rows, new JsonSerializerOptions { WriteIndented = true }));
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>The floor's operations per second (every floor pass at the model's FLOPs) and its share of the best kernel of its precision.</summary>
    private static void AddPeakShare(Dictionary<string, object?> row, bool int8, long flops, IReadOnlyList<PeakKernel> kernels)
    {
        double achieved = (int)row["forward_passes"]! * (double)flops / ((double)row["floor_ms"]! / 1000) / 1e9;
        double best = kernels.Where(k => k.Int8 == int8).Max(k => k.BestGigaOpsPerSecond);
        row["flops_per_pass"] = flops;
        row["floor_gops_per_s"] = Math.Round(achieved, 1);
        row["peak_gops_per_s"] = Math.Round(best, 1);
        row["peak_share"] = Math.Round(achieved / best, 4);
        row["peak_kernels"] = kernels.Select(k => new Dictionary<string, object> { ["name"] = k.Name, ["best_gops_per_s"] = Math.Round(k.BestGigaOpsPerSecond, 1),
            ["median_gops_per_s"] = Math.Round(k.MedianGigaOpsPerSecond, 1) }).ToList();
    }

    /// <summary>The precision as measured: tf32 is float32 with TF32 tensor cores, a CUDA mode; on the CPU it is plain fp32.</summary>
    private static string PrecisionLabel(string precision, ExecutionDevice device)
    {
        string p = precision.Trim().ToLowerInvariant();
        return p == "tf32" && device == ExecutionDevice.Cpu ? "fp32" : p;
    }

    /// <summary>A comma-separated list of integers 1..<paramref name="max"/>, or <paramref name="word"/> (null in the result).</summary>
    internal static int?[] List(string list, string flag, string? word, int max) => list.Split(',', StringSplitOptions.TrimEntries)
        .Select(b => b == word ? (int?)null
            : int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1 && v <= max ? v
            : throw new UsageException($"{flag} must list integers {(max == int.MaxValue ? "of at least 1" : $"between 1 and {max}")}{(word is null ? "" : $", or {word}")}; got '{b}'."))
        .ToArray();

    /// <summary>Each method named, and for Score-CAM (and Guided Score-CAM) each channel count; other methods once.</summary>
    private static List<(IExplanationMethod, bool, int?)> Methods(string names, MethodSettings settings, int?[] channelCounts)
    {
        MethodOptions.RefuseUnreached(settings.Given, names, "--");
        var result = new List<(IExplanationMethod, bool, int?)>();
        bool channelsUsed = false;
        foreach (string name in names.Split(',', StringSplitOptions.TrimEntries))
        {
            bool usesChannels = MethodCatalog.TryFind(name, out MethodEntry entry) && entry.Options.Contains(ScoreCamMethod.Channels);
            channelsUsed |= usesChannels;
            foreach (int? k in usesChannels ? channelCounts : new int?[] { null })
                result.Add((MethodOptions.Create(name, usesChannels ? settings.With(ScoreCamMethod.Channels, k) : settings), usesChannels, k));
        }
        if (!channelsUsed && channelCounts.Any(k => k is not null))
            throw new UsageException($"--channels applies to the methods that declare it ({string.Join(", ", MethodCatalog.Entries.Where(e => e.Options.Contains(ScoreCamMethod.Channels)).Select(e => e.Name))}) only; --method is '{names}'.");
        return result;
    }

    /// <summary>
    /// Warm-up of every configuration, then run after run each configuration's explanation followed by its floor, the
    /// first configuration one further each run, so that drift in machine load affects all sides alike.
    /// </summary>
    private static void Measure(List<Configuration> configs, int runs)
    {
        foreach (Configuration c in configs) c.WarmUp();
        for (int run = 0; run < runs; run++)
            for (int step = 0; step < configs.Count; step++)
                configs[(run + step) % configs.Count].MeasureOnce();
    }

    private sealed class Configuration(CamExplainer view, string precision, bool auto, IExplanationMethod method, string channelsLabel, int? channels, ImageTensor[] images,
        ExplanationTarget[] targets)
    {
        private readonly List<double> _wall = new(), _floor = new(), _inference = new(), _allocated = new(), _fill = new();
        private int _passes, _skipped;
        private double _firstMs;

        public CamExplainer View => view;
        public bool Auto => auto;
        public string Precision => precision;
        public IExplanationMethod Method => method;
        /// <summary>K as the table shows it: a count, all, or - for a method without channel selection.</summary>
        public string ChannelsLabel => channelsLabel;
        public ImageTensor[] Images => images;
        public ExplanationTarget[] Targets => targets;

        private long BatchesRun => view.Runner switch
        {
            MaskedBatchRunner m => m.BatchesRun,
            Int8BatchRunner q => q.BatchesRun,
            _ => 0,
        };

        public void WarmUp()
        {
            var clock = Stopwatch.StartNew();
            var first = view.ExplainMany(images, targets, method);
            _firstMs = clock.Elapsed.TotalMilliseconds;
            _passes = first.Sum(e => e[0].ForwardPasses);
            _skipped = first.Sum(e => e[0].SkippedChannels);
            Floor();
        }

        public void MeasureOnce()
        {
            long bytes = GC.GetTotalAllocatedBytes(precise: true), calls = BatchesRun;
            var clock = Stopwatch.StartNew();
            var explanations = view.ExplainMany(images, targets, method);
            _wall.Add(clock.Elapsed.TotalMilliseconds);
            _allocated.Add((GC.GetTotalAllocatedBytes(precise: true) - bytes) / 1024.0);
            _inference.Add(explanations.Sum(e => e[0].InferenceTime.TotalMilliseconds));
            calls = BatchesRun - calls;
            if (calls > 0) _fill.Add((double)explanations.Sum(e => e[0].ForwardPasses - 1) / (calls * view.BatchSize));
            clock.Restart();
            Floor();
            _floor.Add(clock.Elapsed.TotalMilliseconds);
        }

        /// <summary>The passes the call needs, on the unmasked input: one full forward per image, the rest in full batches.</summary>
        private void Floor()
        {
            foreach (ImageTensor image in images) view.Session.Forward(image);
            ImageTensor input = images[0];
            view.Runner.Run(input, _passes - images.Length, (_, slot) => { input.Data.CopyTo(slot); return true; }, (_, _) => { });
        }

        public Dictionary<string, object?> Row(int runs)
        {
            double wallMs = Median(_wall), floorMs = Median(_floor);
            return new Dictionary<string, object?>
            {
                ["method"] = method.Name,
                ["precision"] = precision,
                ["channels"] = channels,
                ["batch"] = view.BatchSize,
                ["auto"] = auto,
                ["batch_reason"] = view.BatchSizeChoice.Reason,
                ["images"] = images.Length,
                ["targets"] = targets.Length,
                ["runs"] = runs,
                ["forward_passes"] = _passes,
                ["skipped_channels"] = _skipped,
                ["wall_ms"] = Math.Round(wallMs, 2),
                ["floor_ms"] = Math.Round(floorMs, 2),
                ["ratio"] = Math.Round(wallMs / floorMs, 4),
                ["outside_ort_share"] = Math.Round(Median(_wall.Zip(_inference, (w, i) => 1 - i / w).ToList()), 4),
                ["passes_per_second"] = Math.Round(_passes / (wallMs / 1000), 1),
                ["batch_fill"] = _fill.Count > 0 ? Math.Round(Median(_fill), 4) : null,
                ["ms_per_image"] = Math.Round(wallMs / images.Length, 2),
                ["allocated_kb_per_call"] = Math.Round(Median(_allocated), 1),
                ["first_call_ms"] = Math.Round(_firstMs, 1),
            };
        }
    }

    /// <summary>Disposes the explainers made so far, whatever failed after them.</summary>
    private sealed class Disposer(List<CamExplainer> explainers) : IDisposable
    {
        public void Dispose()
        {
            foreach (CamExplainer e in explainers) e.Dispose();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
