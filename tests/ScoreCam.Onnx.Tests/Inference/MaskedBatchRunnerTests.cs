using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Inference;

public class MaskedBatchRunnerTests
{
    private static readonly PreparedModel Squares = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");

    /// <summary>Item i of job j is the two-squares image with the red square moved by (i, j): every row differs.</summary>
    private static ImageTensor Input(int job, int item) => TestModels.TwoSquares(x0: 2 + item, y0: 2 + job);

    [Test]
    public void Several_jobs_fill_shared_batches_and_each_gets_its_own_rows_in_order()
    {
        using var session = new ModelSession(Squares);
        var runner = new MaskedBatchRunner(session, batchSize: 4, pipelined: false);
        var log = new List<string>();
        var rows = new List<(int Job, int Item, float[] Row)>();
        int[] counts = { 3, 3, 2 };
        var jobs = counts.Select((n, j) => new BatchJob(Input(0, 0), n,
            (item, input) => { log.Add($"w{j}.{item}"); Input(j, item).Data.CopyTo(input); return true; },
            (item, row) => { log.Add($"r{j}.{item}"); rows.Add((j, item, row.ToArray())); })).ToList();

        var summaries = runner.Run(jobs);

        // Batches of four across job boundaries: 8 items in two calls, not three part-empty ones.
        log.Should().Equal("w0.0", "w0.1", "w0.2", "w1.0", "r0.0", "r0.1", "r0.2", "r1.0",
            "w1.1", "w1.2", "w2.0", "w2.1", "r1.1", "r1.2", "r2.0", "r2.1");
        summaries.Select(s => s.Passes).Should().Equal(3, 3, 2);
        foreach (var (job, item, row) in rows) row.Should().Equal(session.Forward(Input(job, item)).Scores, $"job {job}, item {item}");
    }

    [Test]
    public void Skipped_items_progress_and_pipelining_are_per_job()
    {
        using var session = new ModelSession(Squares);
        var runner = new MaskedBatchRunner(session, batchSize: 3);
        var progress = new[] { new List<int>(), new List<int>() };
        var read = new[] { new List<int>(), new List<int>() };
        var jobs = Enumerable.Range(0, 2).Select(j => new BatchJob(Input(0, 0), 5,
            (item, input) => { Input(j, item).Data.CopyTo(input); return item % 2 == 0 || j == 1; },
            (item, _) => read[j].Add(item), new SyncProgress(progress[j].Add))).ToList();

        var summaries = runner.Run(jobs);

        read[0].Should().Equal(0, 2, 4);
        read[1].Should().Equal(0, 1, 2, 3, 4);
        summaries[0].Should().Match<BatchRunSummary>(s => s.Passes == 3 && s.Skipped == 2);
        summaries[1].Should().Match<BatchRunSummary>(s => s.Passes == 5 && s.Skipped == 0);
        progress[0][^1].Should().Be(5);
        progress[1][^1].Should().Be(5);
        progress[1].Should().BeInAscendingOrder();
    }

    [Test]
    public void Jobs_of_different_shapes_are_refused()
    {
        using var session = new ModelSession(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"));
        var runner = new MaskedBatchRunner(session, batchSize: 2);
        var small = new ImageTensor(new float[3 * 16 * 16], 3, 16, 16);
        var jobs = new[]
        {
            new BatchJob(Input(0, 0), 1, (_, _) => true, (_, _) => { }),
            new BatchJob(small, 1, (_, _) => true, (_, _) => { }),
        };
        runner.Invoking(r => r.Run(jobs)).Should().Throw<ArgumentException>().WithMessage("*one input shape*3x32x32*3x16x16*");
    }

    [Test]
    public void Device_resident_buffers_bound_once_give_the_same_rows_and_are_kept_for_the_next_run()
    {
        using var host = new ModelSession(Squares);
        using var device = new ModelSession(Squares, new InferenceOptions { DeviceResidentBuffers = true });
        using var runner = new MaskedBatchRunner(device, batchSize: 2);
        for (int run = 0; run < 2; run++)
        {
            // Five items: two full batches through the bound device tensors, then a partial one.
            var rows = new float[5][];
            runner.Run(Input(0, 0), 5, (item, input) => { Input(run, item).Data.CopyTo(input); return true; }, (item, row) => rows[item] = row.ToArray());
            for (int item = 0; item < 5; item++) rows[item].Should().Equal(host.Forward(Input(run, item)).Scores, $"run {run}, item {item}");
        }
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
