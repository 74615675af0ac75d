using System.Diagnostics;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Reliability;

/// <summary>One explainer under 16 concurrent callers, and cancellation in the middle of a long Score-CAM.</summary>
public class LoadTests
{
    private const int Callers = 16;

    private static CamExplainer Explainer() => new(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"), new ExplainerOptions
    {
        Inference = new InferenceOptions { BatchSize = 2 },
    });

    /// <summary>Inputs and targets that give different maps, so that a mix-up between callers would show.</summary>
    private static readonly (ImageTensor Image, ExplanationTarget Target, IExplanationMethod Method)[] Work =
    {
        (TestModels.TwoSquares(), ExplanationTarget.Class(0), new ScoreCamMethod()),
        (TestModels.TwoSquares(), ExplanationTarget.Class(1), new ScoreCamMethod()),
        (TestModels.TwoSquares(x0: 20, y0: 20, x1: 2, y1: 6), ExplanationTarget.TopPrediction, new ScoreCamMethod()),
        (TestModels.TwoSquares(side: 12), ExplanationTarget.Class(1), new RiseMethod(new RiseOptions { Masks = 16, Seed = 3 })),
    };

    [Test]
    public void Sixteen_concurrent_callers_get_exactly_the_sequential_results() => Hammer(TimeSpan.Zero, rounds: 20);

    /// <summary>The two-minute version (tools/reliability/run.sh runs it; SCORECAM_LOAD_SECONDS sets the duration).</summary>
    [Test, Explicit("two minutes: run on demand"), Category("Soak")]
    public void Sixteen_concurrent_callers_for_minutes() =>
        Hammer(TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("SCORECAM_LOAD_SECONDS"), out int s) ? s : 120), rounds: int.MaxValue);

    private static void Hammer(TimeSpan duration, int rounds)
    {
        using CamExplainer explainer = Explainer();
        float[][] expected = Work.Select(w => explainer.Explain(w.Image, w.Target, w.Method).Heatmap.Values).ToArray();
        var clock = Stopwatch.StartNew();
        int explanations = 0, mismatches = 0;
        Parallel.For(0, Callers, new ParallelOptions { MaxDegreeOfParallelism = Callers }, caller =>
        {
            for (int round = 0; round < rounds; round++)
            {
                if (duration > TimeSpan.Zero && round > 0 && clock.Elapsed >= duration) break;
                int w = (caller + round) % Work.Length;
                float[] map = explainer.Explain(Work[w].Image, Work[w].Target, Work[w].Method).Heatmap.Values;
                Interlocked.Increment(ref explanations);
                if (!map.AsSpan().SequenceEqual(expected[w])) Interlocked.Increment(ref mismatches);
            }
        });
        TestContext.Out.WriteLine($"{Callers} callers, {explanations} explanations in {clock.Elapsed.TotalSeconds:0.0} s, {mismatches} differing from sequential");
        mismatches.Should().Be(0);
        explanations.Should().BeGreaterThanOrEqualTo(Callers);
    }

    [Test]
    public void Cancelling_a_long_score_cam_stops_before_the_next_batch_is_built()
    {
        // 64 channels, batches of 4: sixteen batches of masked passes.
        var g = new OnnxGraphBuilder();
        var random = new Random(1);
        float[] w = Enumerable.Range(0, 64 * 3 * 9).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        string conv = g.Node("Conv", new[] { g.Input("input", null, 3, 16, 16), g.Weights("w", w, 64, 3, 3, 3) }, "conv", Ints("pads", 1, 1, 1, 1));
        string relu = g.Node("Relu", new[] { conv }, "relu");
        string pooled = g.Node("GlobalAveragePool", new[] { relu }, "pooled");
        string flat = g.Node("Flatten", new[] { pooled }, "flat");
        g.Node("Gemm", new[] { flat, g.Weights("fc", Enumerable.Range(0, 64 * 5).Select(_ => (float)random.NextDouble()).ToArray(), 5, 64) }, "output", Int("transB", 1));
        g.Output("output", null, 5);
        using var session = new ModelSession(ModelPreparer.Prepare(g.Build(), "wide"));
        var runner = new MaskedBatchRunner(session, 4, pipelined: true);
        var image = new ImageTensor(Enumerable.Range(0, 3 * 16 * 16).Select(i => (float)Math.Sin(i)).ToArray(), 3, 16, 16);

        using var cancellation = new CancellationTokenSource();
        int written = 0, read = 0, writtenAtCancel = -1, readAtCancel = -1;
        var progress = new Reporter(_ =>
        {
            if (cancellation.IsCancellationRequested) return;
            cancellation.Cancel();
            (writtenAtCancel, readAtCancel) = (written, read);
        });
        FluentActions.Invoking(() => runner.Run(image, 64, (_, input) => { written++; image.Data.CopyTo(input); return true; },
                (_, _) => read++, progress, cancellation.Token))
            .Should().Throw<OperationCanceledException>();

        writtenAtCancel.Should().Be(8, "the first batch was read while the second was already built and running");
        written.Should().Be(writtenAtCancel, "no batch is built after the cancellation");
        read.Should().Be(readAtCancel, "the batch running at the cancellation is waited for, not used");
    }

    [Test]
    public void A_cancelled_command_writes_nothing()
    {
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("m.onnx"));
        NpyFile.Write(folder.File("x.npy"), TestModels.TwoSquares().Data, 1, 3, TestModels.Size, TestModels.Size);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var error = new StringWriter();
        int code = CliApp.Run(new[] { "explain", "--model", model, "--tensor", folder.File("x.npy"), "--json", folder.File("out/r.json"), "--out", folder.File("out/o.png") },
            new StringWriter(), error, cancelled.Token);
        (code, error.ToString().Trim()).Should().Be((CliApp.InputError, "error: cancelled; the explanation in progress was not written."));
        Directory.Exists(folder.File("out")).Should().BeFalse();
    }

    private sealed class Reporter(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
