using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// The GPU settings of one model measured side by side in one process: Score-CAM with each inference setting (TF32
/// off and on, IOBinding device-resident buffers off and on, CUDA graphs, float16) and batch size, wall time against
/// its floor (the same passes on the unmasked input through that setting's session), interleaved run by run, and
/// each setting's map against a float32 CPU explanation of the same input (max |difference| after dividing each by
/// its maximum, and Spearman's rank correlation). Usage:
/// <c>gpu MODEL.onnx IMAGE OUT.json [--device cuda|cpu] [--batch 32,128] [--runs 5] [--channels K] [--goal-ms 60]</c>.
/// With --goal-ms the best float32 / TF32 setting is checked against it and against the CPU map to 1e-3
/// (prints GOAL PASS or GOAL FAIL). --device cpu runs the same settings on the CPU provider (TF32 and CUDA graphs do
/// nothing there): a dry run of the check on a machine without a GPU.
/// </summary>
internal static class GpuCheck
{
    /// <summary>One inference setting: its name and how it changes the base options.</summary>
    private sealed record Setting(string Name, bool Float32, Func<InferenceOptions, InferenceOptions> Apply);

    private static readonly Setting[] Settings =
    {
        new("fp32", true, o => o with { CudaTf32 = false }),
        new("fp32+iobinding", true, o => o with { CudaTf32 = false, DeviceResidentBuffers = true }),
        new("tf32", true, o => o with { CudaTf32 = true }),
        new("tf32+iobinding", true, o => o with { CudaTf32 = true, DeviceResidentBuffers = true }),
        new("tf32+iobinding+graphs", true, o => o with { CudaTf32 = true, DeviceResidentBuffers = true, CudaGraphs = true }),
        new("fp16+iobinding", false, o => o with { Float16 = true, DeviceResidentBuffers = true }),
        new("fp16+iobinding+graphs", false, o => o with { Float16 = true, DeviceResidentBuffers = true, CudaGraphs = true }),
    };

    /// <summary>The CPU map must equal the GPU's to this, after dividing each by its maximum (issue 13's goal).</summary>
    private const double MapTolerance = 1e-3;

    public static int Run(string[] args)
    {
        string device = ToolArgs.Option(ref args, "--device") ?? "cuda";
        string? goal = ToolArgs.Option(ref args, "--goal-ms"), channels = ToolArgs.Option(ref args, "--channels");
        int runs = int.Parse(ToolArgs.Option(ref args, "--runs") ?? "5", CultureInfo.InvariantCulture);
        int[] batches = (ToolArgs.Option(ref args, "--batch") ?? "32,128").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray();
        if (args.Length != 3 || device is not ("cuda" or "cpu") || runs < 1 || batches.Any(b => b < 1))
        {
            Console.Error.WriteLine("usage: gpu MODEL.onnx IMAGE OUT.json [--device cuda|cpu] [--batch 32,128] [--runs 5] [--channels K] [--goal-ms 60]");
            return 2;
        }
        string modelPath = args[0];
        var method = new ScoreCamMethod(new ScoreCamOptions { MaxChannels = channels is null ? null : int.Parse(channels, CultureInfo.InvariantCulture) });
        PreparedModel model = ModelPreparer.Prepare(modelPath);
        var baseOptions = new ExplainerOptions { Preprocess = PreprocessOptions.FromSidecar(modelPath), Method = method };

        // The reference: float32 on the CPU provider, the library's default path.
        ImageTensor input;
        float[] reference;
        using (var cpu = new CamExplainer(model, baseOptions))
        {
            using var picture = cpu.LoadImage(args[1]);
            input = cpu.Preprocess(picture);
            var clock = Stopwatch.StartNew();
            reference = cpu.Explain(input).Map.Values;
            Console.WriteLine($"{Path.GetFileName(modelPath)}: CPU float32 reference in {clock.Elapsed.TotalMilliseconds:0} ms");
        }

        var target = device == "cuda" ? ExecutionDevice.Cuda : ExecutionDevice.Cpu;
        var explainers = new List<CamExplainer>();
        try
        {
            var cases = new List<Case>();
            foreach (Setting setting in Settings)
            {
                var options = baseOptions with { Inference = setting.Apply(new InferenceOptions { Device = target, FallBackToCpu = false }) };
                var explainer = new CamExplainer(model, options);
                explainers.Add(explainer);
                foreach (int batch in batches) cases.Add(new Case(setting, explainer.WithBatchSize(batch), input));
            }
            foreach (Case c in cases) c.WarmUp(reference);
            for (int run = 0; run < runs; run++)
                for (int step = 0; step < cases.Count; step++)
                    cases[(run + step) % cases.Count].MeasureOnce();

            Console.WriteLine("setting                 batch  passes  wall_ms  floor_ms  ratio  passes/s  max_diff_vs_cpu  spearman_vs_cpu");
            var rows = cases.Select(c => c.Row(modelPath, device, runs)).ToList();
            foreach (var row in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{row["setting"],-22}  {row["batch"],5}  {row["forward_passes"],6}  {row["wall_ms"],7:0.0}  {row["floor_ms"],8:0.0}  {row["ratio"],5:0.000}  {row["passes_per_second"],8:0.0}  {row["max_diff_vs_cpu"],15:0.0e+0}  {row["spearman_vs_cpu"],15:0.000000}"));
            File.WriteAllBytes(args[2], JsonSerializer.SerializeToUtf8Bytes(rows, new JsonSerializerOptions { WriteIndented = true }));

            if (goal is null) return 0;
            double goalMs = double.Parse(goal, CultureInfo.InvariantCulture);
            var best = rows.Where(r => (bool)r["float32"]! && (double)r["max_diff_vs_cpu"]! <= MapTolerance).MinBy(r => (double)r["wall_ms"]!);
            bool pass = best is not null && (double)best["wall_ms"]! <= goalMs;
            Console.WriteLine(best is null
                ? $"GOAL FAIL: no float32 / TF32 setting's map equals the CPU's to {MapTolerance:0e+0}"
                : string.Create(CultureInfo.InvariantCulture, $"GOAL {(pass ? "PASS" : "FAIL")}: best float32 / TF32 setting {best["setting"]} at batch {best["batch"]}, {best["wall_ms"]:0.0} ms (goal {goalMs:0} ms), map max difference {best["max_diff_vs_cpu"]:0.0e+0}"));
            return 0;
        }
        finally
        {
            foreach (CamExplainer e in explainers) e.Dispose();
        }
    }

    /// <summary>One setting at one batch size: its explanations and floors, and its map's agreement with the CPU's.</summary>
    private sealed class Case(Setting setting, CamExplainer explainer, ImageTensor input)
    {
        private readonly List<double> _wall = new(), _floor = new();
        private int _passes;
        private double _maxDiff, _spearman;

        public void WarmUp(float[] reference)
        {
            if (explainer.Session.Device != explainer.Session.Options.Device)
                throw new ScoreCamException($"{setting.Name}: the session runs on {explainer.Session.Device}, not {explainer.Session.Options.Device}.");
            Explanation e = explainer.Explain(input);
            _passes = e.ForwardPasses;
            float[] map = e.Map.Values;
            float ma = Math.Max(map.Max(), 1e-30f), mb = Math.Max(reference.Max(), 1e-30f);
            _maxDiff = map.Zip(reference, (a, b) => Math.Abs(a / ma - b / mb)).Max();
            _spearman = RankCorrelation.Spearman(map, reference);
            Floor();
        }

        public void MeasureOnce()
        {
            var clock = Stopwatch.StartNew();
            explainer.Explain(input);
            _wall.Add(clock.Elapsed.TotalMilliseconds);
            clock.Restart();
            Floor();
            _floor.Add(clock.Elapsed.TotalMilliseconds);
        }

        /// <summary>The explanation's passes on the unmasked input: one full forward, the masked count in batches.</summary>
        private void Floor()
        {
            explainer.Session.Forward(input);
            explainer.Runner.Run(input, _passes - 1, (_, slot) => { input.Data.CopyTo(slot); return true; }, (_, _) => { });
        }

        public Dictionary<string, object?> Row(string model, string device, int runs)
        {
            double wall = ToolArgs.Median(_wall), floor = ToolArgs.Median(_floor);
            return new Dictionary<string, object?>
            {
                ["model"] = Path.GetFileName(model),
                ["device"] = device,
                ["setting"] = setting.Name,
                ["float32"] = setting.Float32,
                ["batch"] = explainer.BatchSize,
                ["runs"] = runs,
                ["forward_passes"] = _passes,
                ["wall_ms"] = Math.Round(wall, 2),
                ["floor_ms"] = Math.Round(floor, 2),
                ["ratio"] = Math.Round(wall / floor, 4),
                ["passes_per_second"] = Math.Round(_passes / (wall / 1000), 1),
                ["max_diff_vs_cpu"] = _maxDiff,
                ["spearman_vs_cpu"] = Math.Round(_spearman, 6),
            };
        }
    }
}
