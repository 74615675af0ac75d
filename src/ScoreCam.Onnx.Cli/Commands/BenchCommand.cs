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

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam bench</c>: end-to-end explanation time against its floor, the same number of forward passes on
/// unmasked inputs at the same batch size, measured interleaved in one process and session. Medians.
/// </summary>
internal static class BenchCommand
{
    private const string Auto = "auto";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var methodFlags = new MethodOptions();
        var image = new Option<string?>("--image") { Description = "Picture to explain. Default: the embedded sample canvas." };
        var method = new Option<string>("--method") { Description = $"One of: {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam" };
        var batches = new Option<string>("--batch") { Description = "Batch sizes to measure, comma-separated; auto: the size chosen for the model (within --max-memory).", DefaultValueFactory = _ => Auto };
        var runs = new Option<int>("--runs") { Description = "Measured runs per batch size (after one warm-up).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core).", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the figures as JSON." };
        var command = new Command("bench", "Measure explanation time against the forward-pass floor.") { image, method, batches, runs, threads, json };
        methodFlags.AddTo(command, batch: false);
        model.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            int?[] sizes = r.GetValue(batches)!.Split(',', StringSplitOptions.TrimEntries)
                .Select(b => b == Auto ? (int?)null
                    : int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is > 0 and <= MethodOptions.MaxBatch ? v
                    : throw new UsageException($"--batch must list integers between 1 and {MethodOptions.MaxBatch}, or auto; got '{b}'."))
                .ToArray();
            int runCount = r.GetValue(runs);
            if (runCount < 1) throw new UsageException("--runs must be at least 1.");
            if (r.GetValue(threads) < 0) throw new UsageException($"--threads must be 0 (one per core) or more; got {r.GetValue(threads)}.");
            IExplanationMethod m = MethodOptions.Create(r.GetValue(method)!, methodFlags.Settings(r));
            using CamExplainer explainer = ExplainerFactory.Create(r, model, m, new WarningLogger(error.WriteLine), out string modelName,
                threads: r.GetValue(threads), maxBatchMemory: methodFlags.MaxBatchMemory(r));
            using Image<Rgb24> picture = r.GetValue(image) is { } path ? explainer.LoadImage(path) : EmbeddedDefaults.SampleImage();
            ImageTensor input = explainer.Preprocess(picture);
            // One session; each batch size is a view on it, measured in turn within every run.
            var views = sizes.Select(b => b is null ? explainer : explainer.WithBatchSize(b)).ToList();
            if (sizes.Contains(null)) output.WriteLine($"auto: batch {explainer.BatchSize} ({explainer.BatchSizeChoice.Reason})");
            var rows = Measure(views, input, runCount);
            output.WriteLine("batch  wall_ms  floor_ms  ratio  outside_ort  passes/s  alloc_KB/expl");
            for (int i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                row["auto"] = sizes[i] is null;
                row["model"] = modelName;
                row["method"] = m.Name;
                row["device"] = explainer.Session.Device.ToString();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(sizes[i] is null ? $"{row["batch"]}*" : row["batch"]),5}  {row["wall_ms"],7:0.0}  {row["floor_ms"],8:0.0}  {row["ratio"],5:0.000}  {row["outside_ort_share"],11:0.000}  {row["passes_per_second"],8:0.0}  {row["allocated_kb_per_explanation"],13:0.0}"));
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak working set of the run: {rows[0]["peak_working_set_mb"]:0} MB{(sizes.Contains(null) ? "; * the size chosen for the model" : "")}"));
            if (r.GetValue(json) is { } jsonPath)
                AtomicFile.Write(jsonPath, JsonSerializer.SerializeToUtf8Bytes(rows, new JsonSerializerOptions { WriteIndented = true }));
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Each run measures every batch size in turn, starting one further each run, and each explanation is followed by
    /// its floor, so that drift in machine load affects all sides alike. The peak working set is the process's.
    /// </summary>
    private static List<Dictionary<string, object>> Measure(IReadOnlyList<CamExplainer> views, ImageTensor input, int runs)
    {
        int n = views.Count;
        var masked = new int[n];
        var warm = new Explanation[n];
        for (int v = 0; v < n; v++)
        {
            warm[v] = views[v].Explain(input);
            masked[v] = warm[v].ForwardPasses - 1;
            Floor(views[v], input, masked[v]);
        }
        var wall = Lists(n); var floor = Lists(n); var inference = Lists(n); var allocated = Lists(n);
        for (int run = 0; run < runs; run++)
            for (int step = 0; step < n; step++)
            {
                int v = (run + step) % n;
                long bytes = GC.GetTotalAllocatedBytes(precise: true);
                var clock = Stopwatch.StartNew();
                Explanation e = views[v].Explain(input);
                wall[v].Add(clock.Elapsed.TotalMilliseconds);
                allocated[v].Add((GC.GetTotalAllocatedBytes(precise: true) - bytes) / 1024.0);
                inference[v].Add(e.InferenceTime.TotalMilliseconds);
                clock.Restart();
                Floor(views[v], input, masked[v]);
                floor[v].Add(clock.Elapsed.TotalMilliseconds);
            }
        double peak = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1);
        return Enumerable.Range(0, n).Select(v =>
        {
            double wallMs = Median(wall[v]), floorMs = Median(floor[v]);
            return new Dictionary<string, object>
            {
                ["batch"] = views[v].BatchSize,
                ["batch_reason"] = views[v].BatchSizeChoice.Reason,
                ["runs"] = runs,
                ["forward_passes"] = warm[v].ForwardPasses,
                ["skipped_channels"] = warm[v].SkippedChannels,
                ["wall_ms"] = Math.Round(wallMs, 2),
                ["floor_ms"] = Math.Round(floorMs, 2),
                ["ratio"] = Math.Round(wallMs / floorMs, 4),
                ["outside_ort_share"] = Math.Round(Median(wall[v].Zip(inference[v], (w, i) => 1 - i / w).ToList()), 4),
                ["passes_per_second"] = Math.Round(warm[v].ForwardPasses / (wallMs / 1000), 1),
                ["allocated_kb_per_explanation"] = Math.Round(Median(allocated[v]), 1),
                ["peak_working_set_mb"] = peak,
            };
        }).ToList();
    }

    private static List<double>[] Lists(int n) => Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray();

    /// <summary>The passes an explanation needs, on the unmasked input: one full forward and the masked count in batches.</summary>
    private static void Floor(CamExplainer explainer, ImageTensor input, int masked)
    {
        explainer.Session.Forward(input);
        explainer.Runner.Run(input, masked, (_, slot) => { input.Data.CopyTo(slot); return true; }, (_, _) => { });
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
