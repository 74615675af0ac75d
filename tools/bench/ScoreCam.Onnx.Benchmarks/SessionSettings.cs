using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// ONNX Runtime session settings against the floor's throughput: the prepared model's score output over PASSES copies
/// of the sample picture in batches, for each setting (graph optimisation level, intra-op threads, spinning, batch
/// size), run after run in turn so load hits all alike; medians. Usage: session-settings MODEL.onnx [PASSES=256]
/// [RUNS=3] [PICTURE=onnx-models/samples/chelsea.png], from the repository root. The first setting is the library's (full optimisation, one thread per core, spinning on, batch 32).
/// </summary>
internal static class SessionSettings
{
    private sealed record Setting(string Name, GraphOptimizationLevel Level, int Threads, bool Spinning, int Batch);

    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: session-settings MODEL.onnx [PASSES=256] [RUNS=3] [PICTURE]");
            return 2;
        }
        int passes = args.Length > 1 ? int.Parse(args[1]) : 256, runs = args.Length > 2 ? int.Parse(args[2]) : 3;
        using var explainer = CamExplainer.Open(args[0]);
        string picture = args.Length > 3 ? args[3] : Path.Combine("onnx-models", "samples", "chelsea.png");
        using var image = explainer.LoadImage(picture);
        ImageTensor input = explainer.Preprocess(image);
        byte[] model = explainer.Model.ToBytes();
        var settings = new[]
        {
            new Setting("library default: all, threads 0, spinning, batch 32", GraphOptimizationLevel.ORT_ENABLE_ALL, 0, true, 32),
            new Setting("extended optimisation", GraphOptimizationLevel.ORT_ENABLE_EXTENDED, 0, true, 32),
            new Setting("basic optimisation", GraphOptimizationLevel.ORT_ENABLE_BASIC, 0, true, 32),
            new Setting("no spinning", GraphOptimizationLevel.ORT_ENABLE_ALL, 0, false, 32),
            new Setting("1 thread", GraphOptimizationLevel.ORT_ENABLE_ALL, 1, true, 32),
            new Setting("batch 8", GraphOptimizationLevel.ORT_ENABLE_ALL, 0, true, 8),
            new Setting("batch 64", GraphOptimizationLevel.ORT_ENABLE_ALL, 0, true, 64),
        };
        var sessions = settings.Select(s => Open(model, s)).ToList();
        var times = settings.Select(_ => new List<double>()).ToList();
        try
        {
            for (int i = 0; i < settings.Length; i++) Floor(sessions[i], explainer, input, settings[i].Batch, settings[i].Batch);
            for (int run = 0; run < runs; run++)
                for (int step = 0; step < settings.Length; step++)
                {
                    int i = (run + step) % settings.Length;
                    times[i].Add(Floor(sessions[i], explainer, input, settings[i].Batch, passes));
                }
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
        Console.WriteLine($"model {args[0]}, {passes} passes, {runs} runs, medians; load average at the end {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        double baseline = ToolArgs.Median(times[0]);
        for (int i = 0; i < settings.Length; i++)
        {
            double median = ToolArgs.Median(times[i]);
            Console.WriteLine($"  {settings[i].Name,-52} {median,8:0.0} ms  {passes / (median / 1000),7:0.0} passes/s  {baseline / median,6:0.000} x the default  (runs: {string.Join(", ", times[i].Select(t => t.ToString("0")))})");
        }
        return 0;
    }

    private static InferenceSession Open(byte[] model, Setting s)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = s.Level, IntraOpNumThreads = s.Threads, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", s.Spinning ? "1" : "0");
        return new InferenceSession(model, options);
    }

    /// <summary>Milliseconds for <paramref name="passes"/> copies of the input in batches of <paramref name="batch"/> (the last one partial).</summary>
    private static double Floor(InferenceSession session, CamExplainer explainer, ImageTensor input, int batch, int passes)
    {
        var data = new float[batch * input.Data.Length];
        for (int i = 0; i < batch; i++) input.Data.CopyTo(data, i * input.Data.Length);
        string[] names = { explainer.Model.Input.Name }, outputs = { explainer.Model.OutputName };
        using var runOptions = new RunOptions();
        var clock = Stopwatch.StartNew();
        for (int done = 0; done < passes; done += batch)
        {
            int n = Math.Min(batch, passes - done);
            using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(0, n * input.Data.Length),
                new long[] { n, input.Channels, input.Height, input.Width });
            using (session.Run(runOptions, names, new[] { value }, outputs)) { }
        }
        return clock.Elapsed.TotalMilliseconds;
    }
}
