using System.Diagnostics;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// Runs many explanations in a row in one process and reports resident memory (RSS) and the managed heap after the
/// first <c>warmup</c> and at the end: a flat process has RSS growth near zero past the warm-up.
/// Usage: soak MODEL.onnx IMAGE [COUNT=1000] [WARMUP=50] [SIZE] [PIPELINED=true]
/// </summary>
internal static class Soak
{
    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: soak MODEL.onnx IMAGE [COUNT=1000] [WARMUP=50] [SIZE]");
            return 2;
        }
        int count = args.Length > 2 ? int.Parse(args[2]) : 1000, warmup = args.Length > 3 ? int.Parse(args[3]) : 50;
        var options = new ExplainerOptions();
        if (args.Length > 5) options = options with { Inference = options.Inference with { Pipelined = bool.Parse(args[5]) } };
        if (args.Length > 4) options = options with { Preprocess = new Imaging.PreprocessOptions { Width = int.Parse(args[4]), Height = int.Parse(args[4]) } };
        using var explainer = CamExplainer.Open(args[0], options);
        using var picture = explainer.LoadImage(args[1]);
        ImageTensor input = explainer.Preprocess(picture);

        long rssAfterWarmup = 0, heapAfterWarmup = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 1; i <= count; i++)
        {
            explainer.Explain(input, ExplanationTarget.TopPrediction);
            if (i != warmup && i != count && i % 100 != 0) continue;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long rss = Process.GetCurrentProcess().WorkingSet64, heap = GC.GetTotalMemory(forceFullCollection: true);
            if (i == warmup) (rssAfterWarmup, heapAfterWarmup) = (rss, heap);
            Console.WriteLine($"{i,5} explanations  rss {rss / 1048576.0,8:0.0} MB  managed heap {heap / 1048576.0,7:0.0} MB  {clock.Elapsed.TotalSeconds,7:0.0} s");
        }
        long finalRss = Process.GetCurrentProcess().WorkingSet64;
        Console.WriteLine($"RSS growth after explanation {warmup}: {(finalRss - rssAfterWarmup) * 100.0 / rssAfterWarmup:+0.00;-0.00}%  " +
                          $"(managed heap {heapAfterWarmup / 1048576.0:0.0} → {GC.GetTotalMemory(true) / 1048576.0:0.0} MB)");
        return 0;
    }
}
