using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests;

/// <summary>
/// Models whose export fixes the batch size (in the input's shape and in a Reshape inside the graph, as fixed-shape
/// exports write it) explain as the same model with a symbolic batch: every pass padded to the fixed size, padding
/// neither read nor counted.
/// </summary>
public class FixedBatchModelTests
{
    private static readonly string[] Labels = { "red", "green", "blue" };

    private static PreparedModel Fixed(long batch) =>
        ModelPreparer.Prepare(TestModels.ColouredSquares(batch: batch, bakedBatch: true).Build(), $"fixed-{batch}");

    private static CamExplainer Explainer(PreparedModel model, int? batch = null) =>
        new(model, new ExplainerOptions { Labels = Labels, Inference = new InferenceOptions { BatchSize = batch } });

    // Small settings: Score-CAM's 2 masked passes (the blue and bias maps are constant), RISE's 10 and SmoothGrad's 5 leave a partial last batch of 4.
    // RISE's and SmoothGrad's seed is one option now (3 for both).
    private static readonly MethodSettings Settings = new MethodSettings()
        .With(RiseMethod.Masks, 10).With(CommonOptions.Seed, 3).With(SmoothGradMethod.Samples, 5)
        .With(IntegratedGradientsMethod.Steps, 6).With(MaskMethod.Iterations, 4);

    private static IEnumerable<TestCaseData> EveryMethodAtBothFixedSizes() =>
        from size in new[] { 4, 1 }
        from name in MethodCatalog.Names
        select new TestCaseData(size, name).SetName($"Fixed_at_{size}_{name}_explains_as_with_a_symbolic_batch");

    [TestCaseSource(nameof(EveryMethodAtBothFixedSizes))]
    public void A_model_with_a_fixed_batch_explains_as_the_same_model_with_a_symbolic_batch(int size, string name)
    {
        PreparedModel model = Fixed(size);
        model.FixedBatchSize.Should().Be(size);
        using CamExplainer fixedBatch = Explainer(model), symbolic = Explainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "symbolic"), 3);
        fixedBatch.BatchSize.Should().Be(size);
        IExplanationMethod method = MethodCatalog.Create(name, Settings);
        ImageTensor image = TestModels.TwoSquares();
        // Two targets: the gradient methods' head pass seeds both in one run, which a fixed size of 1 splits.
        ExplanationTarget[] targets = { ExplanationTarget.Class(0), ExplanationTarget.Class(1) };

        var expected = symbolic.ExplainTargets(image, targets, method);
        var actual = fixedBatch.ExplainTargets(image, targets, method);

        for (int t = 0; t < targets.Length; t++)
        {
            Explanation a = actual[t], e = expected[t];
            AssertClose(a.Map.Values, e.Map.Values, $"{name}, target {t}: the map");
            AssertClose(a.ChannelWeights, e.ChannelWeights, "the channel weights");
            if (e.Attribution is not null) AssertClose(a.Attribution!.Values, e.Attribution.Values, "the attribution");
            (a.ForwardPasses, a.SkippedChannels).Should().Be((e.ForwardPasses, e.SkippedChannels), "padding is not counted as passes");
            a.Target.Score.Should().BeApproximately(e.Target.Score, 1e-5f);
            (a.Prediction.Index, a.Prediction.Label).Should().Be((e.Prediction.Index, e.Prediction.Label));
        }
    }

    [TestCase("scorecam")]
    [TestCase("rise")]
    public void Several_images_in_shared_batches_of_a_fixed_size_give_what_each_gives_alone(string name)
    {
        using CamExplainer explainer = Explainer(Fixed(4));
        IExplanationMethod method = MethodCatalog.Create(name, Settings);
        ImageTensor[] images = { TestModels.TwoSquares(), TestModels.TwoSquares(12, 2, 2, 20), TestModels.TwoSquares(0, 24, 16, 8, side: 6) };
        ExplanationTarget[] targets = { ExplanationTarget.Class(1) };

        var together = explainer.ExplainMany(images, targets, method);
        for (int i = 0; i < images.Length; i++)
        {
            Explanation alone = explainer.ExplainTargets(images[i], targets, method)[0];
            AssertClose(together[i][0].Map.Values, alone.Map.Values, $"image {i}");
            together[i][0].ForwardPasses.Should().Be(alone.ForwardPasses);
        }
    }

    [TestCase("scorecam")]
    [TestCase("rise")]
    [TestCase("gradcam")]
    public void Bound_buffers_and_CUDA_graphs_run_padded_batches_too(string name)
    {
        // On a machine without a GPU this falls back to the CPU with bound buffers; on one, partial batches replay the CUDA graph.
        var inference = new InferenceOptions { Device = ExecutionDevice.Cuda, DeviceResidentBuffers = true, CudaGraphs = true };
        using CamExplainer bound = new(Fixed(4), new ExplainerOptions { Labels = Labels, Inference = inference });
        using CamExplainer symbolic = Explainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "symbolic"));
        IExplanationMethod method = MethodCatalog.Create(name, Settings);

        foreach (ImageTensor image in new[] { TestModels.TwoSquares(), TestModels.TwoSquares(12, 2, 2, 20) })
        {
            Explanation a = bound.Explain(image, ExplanationTarget.Class(1), method), e = symbolic.Explain(image, ExplanationTarget.Class(1), method);
            // CUDA's kernels round differently from the CPU's; on the CPU the two agree to 1e-5 as above.
            for (int i = 0; i < e.Map.Values.Length; i++) a.Map.Values[i].Should().BeApproximately(e.Map.Values[i], 1e-4f, $"{name} at {i}");
            a.ForwardPasses.Should().Be(e.ForwardPasses);
        }
    }

    private static IEnumerable<TestCaseData> Int8MaskedMethodsAtBothFixedSizes() =>
        from size in new[] { 4, 1 }
        from name in new[] { "scorecam", "rise" }
        select new TestCaseData(size, name).SetName($"Int8_at_fixed_{size}_{name}_scores_as_with_a_symbolic_batch");

    [TestCaseSource(nameof(Int8MaskedMethodsAtBothFixedSizes))]
    public void Int8_masked_passes_on_a_fixed_batch_model_score_as_on_the_same_model_with_a_symbolic_batch(int size, string name)
    {
        // The calibration runs the fixed size's copies of each input and the int8 copy keeps the fixed shape; its
        // padded batches must score the real inputs as the symbolic model's int8 copy does (same ranges, same graph).
        var int8 = new InferenceOptions { Int8 = new Int8Options { MaskedSamples = 2 } };
        using CamExplainer fixedBatch = new(Fixed(size), new ExplainerOptions { Labels = Labels, Inference = int8 });
        using CamExplainer symbolic = new(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "symbolic"),
            new ExplainerOptions { Labels = Labels, Inference = int8 with { BatchSize = 3 } });
        using CamExplainer float32 = Explainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "symbolic"), 3);
        IExplanationMethod method = MethodCatalog.Create(name, Settings);
        ImageTensor image = TestModels.TwoSquares();

        Explanation a = fixedBatch.Explain(image, ExplanationTarget.Class(1), method), e = symbolic.Explain(image, ExplanationTarget.Class(1), method);
        ((Int8BatchRunner)fixedBatch.Runner).Calibrations.Should().Be(1);
        AssertClose(a.Map.Values, e.Map.Values, $"{name}: the map");
        a.ForwardPasses.Should().Be(e.ForwardPasses, "padding is not counted as passes");
        float[] reference = float32.Explain(image, ExplanationTarget.Class(1), method).Map.Values;
        a.Map.Values.Should().NotEqual(reference, "the masked passes ran in int8, not float32");
    }

    [Test]
    public void The_batch_choice_states_the_fixed_size_and_a_request_for_another_is_answered_not_refused()
    {
        PreparedModel model = Fixed(4);
        model.Warnings.Should().ContainSingle().Which.Should().Contain("fixes its batch size at 4").And.Contain("padded");

        BatchSizeChoice chosen = BatchSizePolicy.Choose(model, budgetBytes: 1);
        chosen.BatchSize.Should().Be(4, "no budget makes a fixed-size export run another size");
        chosen.Reason.Should().Be("the model's export fixes its batch size at 4; partial batches are padded");
        BatchSizePolicy.Choose(model, requested: 4).Reason.Should().Be(chosen.Reason);

        using CamExplainer explainer = Explainer(model, batch: 3);
        explainer.BatchSize.Should().Be(4);
        explainer.BatchSizeChoice.Reason.Should().Be("the model's export fixes its batch size at 4; partial batches are padded; the requested 3 cannot be used");
        explainer.WithBatchSize(8).BatchSizeChoice.Reason.Should().EndWith("the requested 8 cannot be used");
        explainer.Explain(TestModels.TwoSquares(), ExplanationTarget.Class(0)).ForwardPasses.Should().Be(3, "one unmasked and 2 masked passes (the blue and bias maps are constant)");

        BatchSizeChoice one = BatchSizePolicy.Choose(Fixed(1), requested: 16);
        (one.BatchSize, one.Reason).Should().Be((1, "the model's export fixes its batch size at 1; the requested 16 cannot be used"));
    }

    [Test]
    public void The_fixed_size_survives_saving_and_the_gradient_graphs_record_it()
    {
        using var folder = new TempFolder();
        foreach (int size in new[] { 4, 1 })
        {
            string path = folder.File($"fixed-{size}.cam.onnx");
            Fixed(size).Save(path);
            PreparedModel loaded = ModelPreparer.Prepare(path);
            loaded.FixedBatchSize.Should().Be(size);

            // A gradient graph saved for the symbolic model is not taken for the fixed one.
            GradientGraph.Save(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "symbolic"), GradientGraph.DefaultPath(path));
            byte[] graph = GradientGraph.Load(loaded);
            graph.Should().NotEqual(File.ReadAllBytes(GradientGraph.DefaultPath(path)));
            global::Onnx.ModelProto.Parser.ParseFrom(graph).MetadataProps.Should().ContainSingle(p => p.Key == "scorecam.grad.batch")
                .Which.Value.Should().Be(size.ToString());
        }
        ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "symbolic").FixedBatchSize.Should().BeNull();
    }

    [Test]
    public void A_gradient_session_of_a_fixed_size_runs_any_count_as_single_runs_do()
    {
        PreparedModel model = Fixed(4);
        using var session = GradientSession.ForHead(model);
        int plane = TestModels.Channels * 8 * 8, outputs = TestModels.Classes, count = 6;
        var random = new Random(1);
        float[] inputs = Enumerable.Range(0, count * plane).Select(_ => (float)random.NextDouble()).ToArray();
        float[] seeds = Enumerable.Range(0, count * outputs).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();

        var (logits, gradients) = session.Run(inputs, seeds, count);
        for (int i = 0; i < count; i++)
        {
            var (z, g) = session.Run(inputs.AsMemory(i * plane, plane), seeds.AsMemory(i * outputs, outputs));
            AssertClose(logits.AsSpan(i * outputs, outputs).ToArray(), z, $"sample {i}'s logits");
            AssertClose(gradients.AsSpan(i * plane, plane).ToArray(), g, $"sample {i}'s gradient");
        }
        // The head is GAP → linear: dY/dA_k = Σ_c seed_c · fc[c, k] / (h·w), with fc[c, c] = 40 for the 3 classes.
        for (int k = 0; k < 3; k++) gradients[plane + k * 64].Should().BeApproximately(seeds[outputs + k] * 40f / 64f, 1e-5f);
        gradients.Skip(plane + 3 * 64).Take(64).Should().AllSatisfy(v => v.Should().Be(0f));
    }

    [Test]
    public void The_command_line_states_the_fixed_size_in_its_output_and_json_and_ignores_another_batch()
    {
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares(batch: 4, bakedBatch: true).Save(folder.File("fixed.onnx"));
        NpyFile.Write(folder.File("x.npy"), TestModels.TwoSquares().Data, 1, 3, 32, 32);

        var (code, output, error) = CliRunner.Run("explain", "--model", model, "--tensor", folder.File("x.npy"), "--target", "1", "--batch", "3",
            "--json", folder.File("r.json"));
        code.Should().Be(0, error);
        error.Should().Contain("fixes its batch size at 4");
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File("r.json")));
        JsonElement batch = json.RootElement.GetProperty("batch");
        batch.GetProperty("size").GetInt32().Should().Be(4);
        batch.GetProperty("reason").GetString().Should().Be("the model's export fixes its batch size at 4; partial batches are padded; the requested 3 cannot be used");
        output.Should().Contain($"batch:      4 ({batch.GetProperty("reason").GetString()})");

        using CamExplainer symbolic = Explainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "symbolic"));
        float[] expected = symbolic.Explain(TestModels.TwoSquares(), ExplanationTarget.Class(1)).Map.Values;
        AssertClose(json.RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray(), expected, "the map");
    }

    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        actual.Should().HaveCount(expected.Length, what);
        for (int i = 0; i < expected.Length; i++) actual[i].Should().BeApproximately(expected[i], 1e-5f, $"{what} at {i}");
    }
}
