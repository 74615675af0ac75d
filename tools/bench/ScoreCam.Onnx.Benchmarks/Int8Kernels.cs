using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// Which kernels ONNX Runtime runs for a model's float32 copy and its int8 copy (calibrated on the picture as the
/// library does by default), named by ONNX Runtime's profiler: per op type, the kernel count and share of kernel
/// time over one batch of 8 copies of the picture (after one warm-up batch). Usage: int8-kernels MODEL.onnx
/// [PICTURE=onnx-models/samples/chelsea.png] [--preprocess FILE.json].
/// </summary>
internal static class Int8Kernels
{
    public static int Run(string[] args)
    {
        string? preprocess = ToolArgs.Option(ref args, "--preprocess");
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: int8-kernels MODEL.onnx [PICTURE] [--preprocess FILE.json]");
            return 2;
        }
        using var explainer = CamExplainer.Open(args[0], new ExplainerOptions
        {
            Preprocess = preprocess is null ? null : JsonSerializer.Deserialize<PreprocessOptions>(File.ReadAllText(preprocess), PreprocessOptions.JsonOptions),
        });
        using var picture = explainer.LoadImage(args.Length > 1 ? args[1] : Path.Combine("onnx-models", "samples", "chelsea.png"));
        ImageTensor input = explainer.Preprocess(picture);
        using var calibrator = new ActivationCalibrator(explainer.Model, new Int8Options(), new InferenceOptions());
        byte[] int8 = Int8Model.Quantize(explainer.Model, calibrator.Calibrate(new[] { input }));
        string folder = Directory.CreateTempSubdirectory("int8-kernels").FullName;
        foreach (var (name, graph) in new[] { ("float32", explainer.Model.ToBytes()), ("int8", int8) })
        {
            using var options = new SessionOptions
            {
                // The prefix first: setting EnableProfiling starts the profiler with the prefix set so far (the default one, in the current folder).
                ProfileOutputPathPrefix = Path.Combine(folder, name), EnableProfiling = true, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            using var session = new InferenceSession(graph, options);
            int batch = explainer.Model.FixedBatchSize ?? 8;
            var data = new float[batch * input.Data.Length];
            for (int i = 0; i < batch; i++) input.Data.CopyTo(data, i * input.Data.Length);
            using var value = OrtValue.CreateTensorValueFromMemory(data, new long[] { batch, input.Channels, input.Height, input.Width });
            using var run = new RunOptions();
            for (int i = 0; i < 2; i++)
                using (session.Run(run, new[] { explainer.Model.Input.Name }, new[] { value }, new[] { explainer.Model.OutputName })) { }
            var events = JsonDocument.Parse(File.ReadAllText(session.EndProfiling())).RootElement.EnumerateArray()
                .Where(e => e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
                .Select(e => (Op: e.GetProperty("args").GetProperty("op_name").GetString()!, Us: e.GetProperty("dur").GetInt64()))
                .ToList();
            // The second of the two runs: the profiler records both, in order.
            var second = events.Skip(events.Count / 2).ToList();
            double total = second.Sum(e => e.Us);
            Console.WriteLine($"{args[0]} {name}: {second.Count} kernels, {total / 1000:0.0} ms for a batch of {batch}");
            foreach (var g in second.GroupBy(e => e.Op).OrderByDescending(g => g.Sum(e => e.Us)))
                Console.WriteLine($"  {g.Key,-28} {g.Count(),4}  {g.Sum(e => e.Us) / total,6:P1}");
        }
        Directory.Delete(folder, recursive: true);
        return 0;
    }
}
