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
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var image = new Option<string?>("--image") { Description = "Picture to explain. Default: the embedded sample canvas." };
        var method = new Option<string>("--method") { Description = $"One of: {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam" };
        var batches = new Option<string>("--batch") { Description = "Batch sizes to measure, comma-separated.", DefaultValueFactory = _ => InferenceOptions.DefaultBatchSize.ToString(CultureInfo.InvariantCulture) };
        var runs = new Option<int>("--runs") { Description = "Measured runs per batch size (after one warm-up).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core).", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the figures as JSON." };
        var command = new Command("bench", "Measure explanation time against the forward-pass floor.") { image, method, batches, runs, threads, json };
        model.AddTo(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            int[] sizes = r.GetValue(batches)!.Split(',', StringSplitOptions.TrimEntries)
                .Select(b => int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is > 0 and <= MethodOptions.MaxBatch ? v
                    : throw new UsageException($"--batch must list integers between 1 and {MethodOptions.MaxBatch}; got '{b}'."))
                .ToArray();
            int runCount = r.GetValue(runs);
            if (runCount < 1) throw new UsageException("--runs must be at least 1.");
            if (r.GetValue(threads) < 0) throw new UsageException($"--threads must be 0 (one per core) or more; got {r.GetValue(threads)}.");
            var rows = new List<Dictionary<string, object>>();
            output.WriteLine("batch  wall_ms  floor_ms  ratio  outside_ort  passes/s  alloc_KB/expl  peak_MB");
            foreach (int batch in sizes)
            {
                IExplanationMethod m = MethodOptions.Create(r.GetValue(method)!, new MethodSettings());
                using CamExplainer explainer = ExplainerFactory.Create(r, model, m, new WarningLogger(error.WriteLine), out string modelName, batch, r.GetValue(threads));
                using Image<Rgb24> picture = r.GetValue(image) is { } path ? explainer.LoadImage(path) : EmbeddedDefaults.SampleImage();
                ImageTensor input = explainer.Preprocess(picture);
                var row = Measure(explainer, input, batch, runCount);
                row["model"] = modelName;
                row["method"] = m.Name;
                row["device"] = explainer.Session.Device.ToString();
                rows.Add(row);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{batch,5}  {row["wall_ms"],7:0.0}  {row["floor_ms"],8:0.0}  {row["ratio"],5:0.000}  {row["outside_ort_share"],11:0.000}  {row["passes_per_second"],8:0.0}  {row["allocated_kb_per_explanation"],13:0.0}  {row["peak_working_set_mb"],7:0}"));
            }
            if (r.GetValue(json) is { } jsonPath)
                AtomicFile.Write(jsonPath, JsonSerializer.SerializeToUtf8Bytes(rows, new JsonSerializerOptions { WriteIndented = true }));
            return CliApp.Ok;
        }));
        return command;
    }

    private static Dictionary<string, object> Measure(CamExplainer explainer, ImageTensor input, int batch, int runs)
    {
        Explanation warm = explainer.Explain(input);
        int masked = warm.ForwardPasses - 1;
        Floor(explainer, input, masked);

        var wall = new List<double>(); var floor = new List<double>(); var inference = new List<double>(); var allocated = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            // Interleaved so that drift in machine load affects both sides alike.
            long bytes = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            Explanation e = explainer.Explain(input);
            wall.Add(clock.Elapsed.TotalMilliseconds);
            allocated.Add((GC.GetTotalAllocatedBytes(precise: true) - bytes) / 1024.0);
            inference.Add(e.InferenceTime.TotalMilliseconds);
            clock.Restart();
            Floor(explainer, input, masked);
            floor.Add(clock.Elapsed.TotalMilliseconds);
        }
        double wallMs = Median(wall), floorMs = Median(floor);
        return new Dictionary<string, object>
        {
            ["batch"] = batch,
            ["runs"] = runs,
            ["forward_passes"] = warm.ForwardPasses,
            ["skipped_channels"] = warm.SkippedChannels,
            ["wall_ms"] = Math.Round(wallMs, 2),
            ["floor_ms"] = Math.Round(floorMs, 2),
            ["ratio"] = Math.Round(wallMs / floorMs, 4),
            ["outside_ort_share"] = Math.Round(Median(wall.Zip(inference, (w, i) => 1 - i / w).ToList()), 4),
            ["passes_per_second"] = Math.Round(warm.ForwardPasses / (wallMs / 1000), 1),
            ["allocated_kb_per_explanation"] = Math.Round(Median(allocated), 1),
            ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
        };
    }

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
