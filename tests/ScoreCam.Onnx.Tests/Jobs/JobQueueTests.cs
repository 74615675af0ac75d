using System.Diagnostics;
using System.Text.Json.Nodes;
using ScoreCam.Onnx.Jobs;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Jobs;

/// <summary>
/// Jobs end to end against a real nats-server on loopback: `scorecam submit` in process, `scorecam worker`s as
/// processes. Every wait is bounded (submit's --timeout, the helpers' limits).
/// </summary>
[NonParallelizable]
public class JobQueueTests
{
    // Short enough that a killed worker's items come back within the test, long enough that a busy worker keeps them.
    private static readonly string[] FastRetries = { "--ack-wait", "2", "--max-deliveries", "3" };

    [Test]
    public void A_job_over_three_workers_gives_the_local_run_s_results_each_stored_once()
    {
        const int pictures = 100;
        using var scene = new JobScene(pictures);
        for (int i = 0; i < 3; i++) scene.StartWorker(FastRetries.Concat(new[] { "--prefetch", "4" }).ToArray());
        string jobs = scene.Folder("jobs"), local = scene.Folder("local");

        var submitted = CliRunner.Run(scene.Submit(jobs, "--method", "scorecam,gradcam"));
        submitted.Code.Should().Be(0, submitted.Err);
        submitted.Out.Should().Contain($"job: {2 * pictures} items, 0 done before, {2 * pictures} queued");
        var explained = CliRunner.Run("explain", "--model", scene.Model, "--image", scene.Pictures, "--out-dir", local, "--overlay-size", "0", "--quiet",
            "--method", "scorecam,gradcam");
        explained.Code.Should().Be(0, explained.Err);

        // The same JSON as the local run's up to 1e-6 (maps, weights, probabilities), but for the time each took.
        JsonNode fromJobs = JobScene.Results(jobs), fromLocal = JobScene.Results(local);
        fromJobs["explanations"]!.AsArray().Count.Should().Be(2 * pictures);
        SameJson(fromJobs, fromLocal, "$");
        // The same pictures, byte for byte.
        foreach (string png in Directory.GetFiles(local, "*.png"))
            File.ReadAllBytes(Path.Combine(jobs, Path.GetFileName(png))).Should().Equal(File.ReadAllBytes(png), Path.GetFileName(png));
        Directory.GetFiles(jobs, "*.png").Should().HaveCount(2 * pictures);

        // Each result computed once, stored once: no object of the results store was ever written twice (a second
        // write replaces the object's record and purges its chunks, which leaves gaps in the stream).
        var computed = scene.Workers.SelectMany(w => w.Computed).ToList();
        computed.Should().HaveCount(2 * pictures).And.OnlyHaveUniqueItems();
        scene.Workers.Should().OnlyContain(w => w.Computed.Count > 0, "the queue spreads the items over the workers");
        scene.StoredResults().Should().BeEquivalentTo(computed);
        var results = scene.StreamState("OBJ_" + JobNames.ResultBucket);
        results.Messages.Should().Be((long)results.LastSeq, "nothing in the results store was replaced or deleted");
        TestContext.Out.WriteLine($"items {2 * pictures}; computed per worker: {string.Join(", ", scene.Workers.Select(w => w.Computed.Count))}");
    }

    [Test]
    public void A_worker_killed_after_its_first_ack_loses_nothing_and_its_items_are_delivered_again()
    {
        const int pictures = 24;
        using var scene = new JobScene(pictures);
        // The victim starts once every item is queued and takes eight at once; RISE with many masks makes them take a
        // while, so that it holds seven unacknowledged items when it dies right after its first ack.
        string jobs = scene.Folder("jobs");
        Task<(int Code, string Out, string Err)> submit = Task.Run(() => CliRunner.Run(scene.Submit(jobs, "--method", "rise", "--rise-masks", "3000")));
        SpinUntil(() => submit.IsCompleted || scene.QueuedItems() == pictures, TimeSpan.FromSeconds(60))
            .Should().BeTrue("the job was queued");
        int killed = 0;
        WorkerProcess victim = scene.StartWorker(FastRetries.Concat(new[] { "--prefetch", "8" }).ToArray(), (worker, line) =>
        {
            if (line.StartsWith("acked ", StringComparison.Ordinal) && Interlocked.Exchange(ref killed, 1) == 0) worker.Kill();
        });
        WorkerProcess survivor = scene.StartWorker(FastRetries.Concat(new[] { "--prefetch", "2" }).ToArray());

        submit.Wait(TimeSpan.FromSeconds(200)).Should().BeTrue("the submitter finishes within its timeout");
        var submitted = submit.Result;
        submitted.Code.Should().Be(0, submitted.Err);
        killed.Should().Be(1, "the first worker acked an item and was killed");
        victim.WaitFor(_ => false, TimeSpan.FromSeconds(1));
        victim.HasExited.Should().BeTrue();

        JobScene.Results(jobs)["explanations"]!.AsArray().Count.Should().Be(pictures);
        var stored = scene.StoredResults();
        stored.Should().HaveCount(pictures).And.OnlyHaveUniqueItems();
        var results = scene.StreamState("OBJ_" + JobNames.ResultBucket);
        results.Messages.Should().Be((long)results.LastSeq, "each result was stored exactly once");
        var consumer = scene.WorkerConsumer();
        long redeliveries = (long)consumer.Delivered.ConsumerSeq - pictures;
        redeliveries.Should().BePositive("the killed worker's unacknowledged item was delivered again");
        scene.StreamState(JobNames.DeadLetterStream).Messages.Should().Be(0);
        scene.StreamState(JobNames.ItemStream).Messages.Should().Be(0, "every item was acked and left the work queue");
        TestContext.Out.WriteLine($"items {pictures}; deliveries {consumer.Delivered.ConsumerSeq}; redeliveries {redeliveries}; " +
            $"computed: killed worker {victim.Computed.Count}, survivor {survivor.Computed.Count}; dead letters 0; stored twice 0");
    }

    [Test]
    public void A_job_completes_when_the_server_restarts_in_the_middle()
    {
        const int pictures = 30;
        using var scene = new JobScene(pictures);
        WorkerProcess first = scene.StartWorker(FastRetries), second = scene.StartWorker(FastRetries);
        string jobs = scene.Folder("jobs");

        Task<(int Code, string Out, string Err)> submit = Task.Run(() => CliRunner.Run(scene.Submit(jobs, "--method", "rise", "--rise-masks", "2000")));
        bool started = SpinUntil(() => first.Computed.Count + second.Computed.Count > 0, TimeSpan.FromSeconds(120));
        started.Should().BeTrue("the workers finished a first item");
        int before = first.Computed.Count + second.Computed.Count;
        scene.Server.Restart();

        submit.Wait(TimeSpan.FromSeconds(200)).Should().BeTrue("the submitter finishes within its timeout");
        var (code, output, error) = submit.Result;
        code.Should().Be(0, error);
        output.Should().Contain($"({pictures} explanations)");
        scene.StoredResults().Should().HaveCount(pictures);
        scene.StreamState(JobNames.ItemStream).Messages.Should().Be(0);
        before.Should().BeLessThan(pictures, "the restart came in the middle of the job");
        TestContext.Out.WriteLine($"items {pictures}; done before the restart {before}; deliveries {scene.WorkerConsumer().Delivered.ConsumerSeq}");
    }

    [Test]
    public void Corrupt_and_oversized_pictures_become_dead_letters_with_their_errors_and_the_rest_completes()
    {
        const int pictures = 10;
        using var scene = new JobScene(pictures);
        File.WriteAllBytes(Path.Combine(scene.Pictures, "corrupt.png"), new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5 });
        JobScene.WritePicture(Path.Combine(scene.Pictures, "oversized.png"), 200, 200, new Random(1));
        scene.StartWorker(new[] { "--ack-wait", "1", "--max-deliveries", "2" });
        string jobs = scene.Folder("jobs");

        // The limit of 0.01 megapixels admits the 32×32 pictures and refuses the 200×200 one.
        var (code, output, error) = CliRunner.Run(scene.Submit(jobs, "--max-megapixels", "0.01"));
        code.Should().Be(1, "two items failed");
        output.Should().Contain($"({pictures} explanations, 2 failed)");
        error.Should().Contain("corrupt.png").And.Contain("oversized.png");

        JsonNode results = JobScene.Results(jobs);
        results["explanations"]!.AsArray().Count.Should().Be(pictures);
        var failed = results["failed"]!.AsArray().Select(f => (Image: Path.GetFileName((string)f!["image"]!), Error: (string)f["error"]!)).OrderBy(f => f.Image).ToList();
        failed.Select(f => f.Image).Should().Equal("corrupt.png", "oversized.png");
        failed[0].Error.Should().Contain("corrupt.png").And.Contain("cannot be decoded");
        failed[1].Error.Should().Contain("200x200").And.Contain("over the limit");
        var dead = scene.StreamState(JobNames.DeadLetterStream);
        dead.Messages.Should().Be(2);
        scene.StreamState(JobNames.ItemStream).Messages.Should().Be(0, "dead items leave the work queue");
        TestContext.Out.WriteLine($"items {pictures + 2}; dead letters {dead.Messages}; deliveries {scene.WorkerConsumer().Delivered.ConsumerSeq}");
    }

    [Test]
    public void Resubmitting_a_finished_job_computes_nothing_and_writes_the_same_results()
    {
        const int pictures = 12;
        using var scene = new JobScene(pictures);
        WorkerProcess worker = scene.StartWorker(FastRetries);
        string first = scene.Folder("first"), second = scene.Folder("second");
        var done = CliRunner.Run(scene.Submit(first, "--method", "scorecam,gradcam"));
        done.Code.Should().Be(0, done.Err);
        worker.Computed.Should().HaveCount(2 * pictures);
        ulong queued = scene.StreamState(JobNames.ItemStream).LastSeq, stored = scene.StreamState("OBJ_" + JobNames.ResultBucket).LastSeq;
        // No worker at all now: anything not skipped would wait until the timeout.
        worker.Dispose();

        var again = CliRunner.Run(scene.Submit(second, "--method", "scorecam,gradcam", "--timeout", "20"));
        again.Code.Should().Be(0, again.Err);
        again.Out.Should().Contain($"job: {2 * pictures} items, {2 * pictures} done before, 0 queued");
        scene.StreamState(JobNames.ItemStream).LastSeq.Should().Be(queued, "nothing was queued");
        scene.StreamState("OBJ_" + JobNames.ResultBucket).LastSeq.Should().Be(stored, "nothing was stored");
        foreach (string file in Directory.GetFiles(first))
            File.ReadAllBytes(Path.Combine(second, Path.GetFileName(file))).Should().Equal(File.ReadAllBytes(file), Path.GetFileName(file));
    }

    /// <summary>Equal JSON, numbers to 1e-6, leaving out the time an explanation took.</summary>
    private static void SameJson(JsonNode? a, JsonNode? b, string path)
    {
        switch (a)
        {
            case null:
                b.Should().BeNull(path);
                return;
            case JsonObject o:
                b.Should().BeOfType<JsonObject>(path);
                var other = b!.AsObject();
                o.Select(p => p.Key).Where(k => k != "elapsedMs").Should().BeEquivalentTo(other.Select(p => p.Key).Where(k => k != "elapsedMs"), path);
                foreach (var (key, member) in o)
                    if (key != "elapsedMs") SameJson(member, other[key], $"{path}.{key}");
                return;
            case JsonArray array:
                b.Should().BeOfType<JsonArray>(path);
                b!.AsArray().Count.Should().Be(array.Count, path);
                for (int i = 0; i < array.Count; i++) SameJson(array[i], b[i], $"{path}[{i}]");
                return;
            default:
                if (a.AsValue().TryGetValue(out double x))
                    ((double)b!.AsValue()).Should().BeApproximately(x, 1e-6, path);
                else
                    b!.ToJsonString().Should().Be(a.ToJsonString(), path);
                return;
        }
    }

    private static bool SpinUntil(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (condition()) return true;
            Thread.Sleep(20);
        }
        return condition();
    }
}
