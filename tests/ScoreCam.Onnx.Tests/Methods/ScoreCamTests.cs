using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Methods;

public class ScoreCamTests
{
    private static CamExplainer Explainer(TestModels.Head head = TestModels.Head.Logits, int batch = 3, ScoreCamOptions? options = null) =>
        new(ModelPreparer.Prepare(TestModels.ColouredSquares(head).Build(), "squares"), new ExplainerOptions
        {
            Labels = new[] { "red", "green", "blue" }.Take(head == TestModels.Head.SingleLogit ? 1 : 3).ToList(),
            Method = new ScoreCamMethod(options),
            Inference = new InferenceOptions { BatchSize = batch },
        });

    [Test]
    public void Weights_equal_the_softmax_scores_of_the_masked_inputs_computed_independently()
    {
        using var explainer = Explainer();
        ImageTensor image = TestModels.TwoSquares();
        byte[] model = TestModels.ColouredSquares().Build();
        var activations = Reference.Run(explainer.Model.ToBytes(), image)[TestModels.TargetLayer];

        foreach (int c in new[] { 0, 1, 2 })
        {
            Explanation e = explainer.Explain(image, ExplanationTarget.Class(c));
            float[] expected = Reference.ScoreCamWeights(model, image, activations, 4, 8, 8, c);
            e.ChannelWeights.Should().HaveCount(4);
            for (int k = 0; k < 4; k++) e.ChannelWeights[k].Should().BeApproximately(expected[k], 1e-5f, $"channel {k}, class {c}");
        }
    }

    [Test]
    public void The_map_is_relu_of_the_weighted_activations_and_the_constant_channel_is_skipped()
    {
        using var explainer = Explainer();
        ImageTensor image = TestModels.TwoSquares();
        var activations = Reference.Run(explainer.Model.ToBytes(), image)[TestModels.TargetLayer];
        Explanation e = explainer.Explain(image, ExplanationTarget.Class(0));

        e.SkippedChannels.Should().Be(2, "blue is absent (all zero) and channel 3 is a constant bias");
        e.ChannelWeights[2].Should().Be(0f);
        e.ChannelWeights[3].Should().Be(0f);
        e.ForwardPasses.Should().Be(1 + 2);
        for (int i = 0; i < 64; i++)
        {
            double sum = 0;
            for (int k = 0; k < 4; k++) sum += e.ChannelWeights[k] * activations[k * 64 + i];
            e.Map.Values[i].Should().BeApproximately((float)Math.Max(0, sum), 1e-5f);
        }
        e.Heatmap.Values.Max().Should().Be(1f);
        e.Heatmap.Values.Min().Should().Be(0f);
    }

    [TestCase(0, 4, 4)]
    [TestCase(1, 20, 16)]
    public void Most_of_the_energy_falls_on_the_square_of_the_explained_class(int c, int x0, int y0)
    {
        using var explainer = Explainer();
        Explanation e = explainer.Explain(TestModels.TwoSquares(), ExplanationTarget.Class(c));
        EnergyIn(e.Heatmap, x0, y0, 8).Should().BeGreaterThan(0.5, "Score-CAM must localize class {0}", c);
        EnergyIn(e.Heatmap, c == 0 ? 20 : 4, c == 0 ? 16 : 4, 8).Should().BeLessThan(0.1, "the other class's square is not evidence");
        e.Target.Label.Should().Be(c == 0 ? "red" : "green");
    }

    [Test]
    public void Without_labels_the_prediction_and_target_are_called_class_N()
    {
        using var explainer = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"));
        Explanation e = explainer.Explain(TestModels.TwoSquares(), ExplanationTarget.Class(1));
        e.Prediction.Label.Should().Be($"class {e.Prediction.Index}");
        (e.Target.Name, e.Target.Label).Should().Be(("class 1", null));
    }

    [Test]
    public void Several_targets_come_from_one_set_of_passes_and_equal_separate_calls()
    {
        using var explainer = Explainer();
        ImageTensor image = TestModels.TwoSquares();
        var both = explainer.ExplainTargets(image, new[] { ExplanationTarget.Class(0), ExplanationTarget.Label("GREEN") });
        both[0].ForwardPasses.Should().Be(3, "masked passes are shared between targets");
        both[0].Map.Values.Should().Equal(explainer.Explain(image, ExplanationTarget.Class(0)).Map.Values);
        both[1].Map.Values.Should().Equal(explainer.Explain(image, ExplanationTarget.Class(1)).Map.Values);
    }

    [Test]
    public void Batch_size_does_not_change_the_answer()
    {
        using var one = Explainer(batch: 1);
        using var many = Explainer(batch: 64);
        ImageTensor image = TestModels.TwoSquares();
        one.Explain(image).ChannelWeights.Should().Equal(many.Explain(image).ChannelWeights);
    }

    [Test]
    public void Channel_selection_keeps_the_top_channels_by_variance_and_changes_nothing_else()
    {
        ImageTensor image = TestModels.TwoSquares();
        using var full = Explainer();
        using var top1 = Explainer(options: new ScoreCamOptions { MaxChannels = 1 });
        using var all = Explainer(options: new ScoreCamOptions { MaxChannels = 4 });
        Explanation f = full.Explain(image, ExplanationTarget.Class(1));
        Explanation t = top1.Explain(image, ExplanationTarget.Class(1));

        // Red and green maps have equal variance (same square size); ties go to the lower channel index.
        t.ForwardPasses.Should().Be(2);
        t.ChannelWeights.Should().Equal(f.ChannelWeights[0], 0f, 0f, 0f);
        all.Explain(image, ExplanationTarget.Class(1)).ChannelWeights.Should().Equal(f.ChannelWeights);
    }

    [Test]
    public void A_softmax_head_is_not_passed_through_softmax_again()
    {
        using var explainer = Explainer(TestModels.Head.Softmax);
        ImageTensor image = TestModels.TwoSquares();
        var activations = Reference.Run(explainer.Model.ToBytes(), image)[TestModels.TargetLayer];
        float[] expected = Reference.ScoreCamWeights(TestModels.ColouredSquares(TestModels.Head.Softmax).Build(), image, activations, 4, 8, 8, 0, p => p);
        Explanation e = explainer.Explain(image, ExplanationTarget.Class(0));
        for (int k = 0; k < 4; k++) e.ChannelWeights[k].Should().BeApproximately(expected[k], 1e-5f);
        e.Prediction.Probability.Should().BeApproximately(Reference.Run(explainer.Model.ToBytes(), image)["output"].Max(), 1e-6f);
    }

    [Test]
    public void A_single_logit_is_scored_with_its_sigmoid_not_a_softmax_over_one_value()
    {
        using var explainer = Explainer(TestModels.Head.SingleLogit);
        ImageTensor image = TestModels.TwoSquares();
        var activations = Reference.Run(explainer.Model.ToBytes(), image)[TestModels.TargetLayer];
        float[] expected = Reference.ScoreCamWeights(TestModels.ColouredSquares(TestModels.Head.SingleLogit).Build(), image, activations, 4, 8, 8, 0,
            z => new[] { 1f / (1f + MathF.Exp(-z[0])) });
        Explanation e = explainer.Explain(image);
        for (int k = 0; k < 4; k++) e.ChannelWeights[k].Should().BeApproximately(expected[k], 1e-5f);
        e.ChannelWeights[0].Should().BeLessThan(1f, "a softmax over one value would always give 1");
        e.Map.Values.Max().Should().BeGreaterThan(0f);
    }

    [Test]
    public void Raw_scores_and_binarized_masks_follow_their_definitions()
    {
        ImageTensor image = TestModels.TwoSquares();
        using var raw = Explainer(options: new ScoreCamOptions { Scores = ScoreMode.RawScore });
        var activations = Reference.Run(raw.Model.ToBytes(), image)[TestModels.TargetLayer];
        float[] expected = Reference.ScoreCamWeights(TestModels.ColouredSquares().Build(), image, activations, 4, 8, 8, 0, z => z);
        Explanation e = raw.Explain(image, ExplanationTarget.Class(0));
        for (int k = 0; k < 4; k++) e.ChannelWeights[k].Should().BeApproximately(expected[k], 1e-5f);

        using var binarized = Explainer(options: new ScoreCamOptions { Masks = MaskMode.Binarized });
        Explanation b = binarized.Explain(image, ExplanationTarget.Class(0));
        // The red channel's binarized mask keeps every pixel the upsampled map touches, so the red square survives whole.
        b.ChannelWeights[0].Should().BeGreaterThan(e.ChannelWeights[1] > 0 ? 0.5f : 0f);
        b.SkippedChannels.Should().Be(2);
    }

    [Test]
    public void The_pytorch_grad_cam_variant_softmaxes_raw_logits_across_all_channels()
    {
        ImageTensor image = TestModels.TwoSquares();
        using var explainer = Explainer(options: new ScoreCamOptions { Variant = CompatibilityVariant.PytorchGradCam });
        var activations = Reference.Run(explainer.Model.ToBytes(), image)[TestModels.TargetLayer];
        byte[] model = TestModels.ColouredSquares().Build();
        var logits = new float[4];
        int plane = 32 * 32;
        for (int k = 0; k < 4; k++)
        {
            float[] up = Reference.Bilinear(activations.Skip(k * 64).Take(64).ToArray(), 8, 8, 32, 32, alignCorners: true);
            float min = up.Min(), max = up.Max();
            var masked = image.Data.Select((v, i) => v * (up[i % plane] - min) / (max - min + 1e-8f)).ToArray();
            logits[k] = Reference.Run(model, new ImageTensor(masked, 3, 32, 32))["output"][0];
        }
        float[] expected = Reference.Softmax(logits);
        Explanation e = explainer.Explain(image, ExplanationTarget.Class(0));
        e.ForwardPasses.Should().Be(1 + 4, "constant maps are kept as all-zero masks");
        for (int k = 0; k < 4; k++) e.ChannelWeights[k].Should().BeApproximately(expected[k], 1e-5f);
    }

    [Test]
    public void The_torch_cam_variant_softmaxes_the_logit_increase_across_channels()
    {
        ImageTensor image = TestModels.TwoSquares();
        using var explainer = Explainer(options: new ScoreCamOptions { Variant = CompatibilityVariant.TorchCam });
        var outputs = Reference.Run(explainer.Model.ToBytes(), image);
        float baseLogit = outputs["output"][1];
        byte[] model = TestModels.ColouredSquares().Build();
        var increase = new float[4];
        for (int k = 0; k < 4; k++)
        {
            float[] low = outputs[TestModels.TargetLayer].Skip(k * 64).Take(64).ToArray();
            float min = low.Min(), max = low.Max();
            float[] normalized = low.Select(v => max > min ? (v - min) / (max - min) : 0f).ToArray();
            float[] up = Reference.Bilinear(normalized, 8, 8, 32, 32, alignCorners: false);
            var masked = image.Data.Select((v, i) => v * up[i % 1024]).ToArray();
            increase[k] = Reference.Run(model, new ImageTensor(masked, 3, 32, 32))["output"][1] - baseLogit;
        }
        float[] expected = Reference.Softmax(increase);
        Explanation e = explainer.Explain(image, ExplanationTarget.Class(1));
        for (int k = 0; k < 4; k++) e.ChannelWeights[k].Should().BeApproximately(expected[k], 1e-5f);
    }

    [Test]
    public void Bad_targets_and_inputs_are_refused_with_a_message()
    {
        using var explainer = Explainer();
        ImageTensor image = TestModels.TwoSquares();
        explainer.Invoking(x => x.Explain(image, ExplanationTarget.Class(5000))).Should().Throw<ScoreCamException>().WithMessage("*5000*out of range*3 outputs*");
        explainer.Invoking(x => x.Explain(image, ExplanationTarget.Label("purple"))).Should().Throw<ScoreCamException>().WithMessage("*'purple' is not among*");
        explainer.Invoking(x => x.Explain(new ImageTensor(new float[3 * 16 * 16], 3, 16, 16))).Should().Throw<ScoreCamException>().WithMessage("*32x32*");
    }

    [Test]
    public void Progress_is_reported_and_cancellation_is_honoured()
    {
        using var explainer = Explainer(batch: 1);
        var reports = new List<ExplanationProgress>();
        explainer.Explain(TestModels.TwoSquares(), null, null, new SynchronousProgress(reports.Add));
        reports.Should().NotBeEmpty();
        reports[^1].Should().Be(new ExplanationProgress(4, 4), "all four channels are done, the two constant ones skipped");

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        explainer.Invoking(x => x.Explain(TestModels.TwoSquares(), cancellationToken: cancelled.Token)).Should().Throw<OperationCanceledException>();
    }

    [Test]
    public void Concurrent_callers_get_the_same_results_as_sequential_calls()
    {
        using var explainer = Explainer();
        ImageTensor image = TestModels.TwoSquares();
        float[] sequential = explainer.Explain(image, ExplanationTarget.Class(1)).Map.Values;
        var results = new float[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => results[i] = explainer.Explain(image, ExplanationTarget.Class(1)).Map.Values);
        foreach (float[] r in results) r.Should().Equal(sequential);
    }

    internal static double EnergyIn(SaliencyMap map, int x0, int y0, int side)
    {
        double inside = 0;
        for (int y = y0; y < y0 + side; y++)
            for (int x = x0; x < x0 + side; x++) inside += map[x, y];
        return inside / map.Values.Sum();
    }

    private sealed class SynchronousProgress(Action<ExplanationProgress> report) : IProgress<ExplanationProgress>
    {
        public void Report(ExplanationProgress value) => report(value);
    }
}
