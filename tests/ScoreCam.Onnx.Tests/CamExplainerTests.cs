using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests;

public class CamExplainerTests
{
    private static CamExplainer Squares(int batch) =>
        new(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"), new ExplainerOptions
        {
            Labels = new[] { "red", "green", "blue" },
            Inference = new InferenceOptions { BatchSize = batch },
        });

    private static readonly ImageTensor[] Images =
    {
        TestModels.TwoSquares(), TestModels.TwoSquares(12, 2, 2, 20), TestModels.TwoSquares(0, 24, 16, 8, side: 6),
    };

    private static readonly ExplanationTarget[] BothClasses = { ExplanationTarget.Class(0), ExplanationTarget.Class(1) };

    [TestCase("scorecam", 3)]
    [TestCase("rise", 4)]
    [TestCase("gradcam", 3)]
    public void Many_images_in_shared_batches_give_what_each_gives_alone(string name, int batch)
    {
        // Score-CAM: 2 masked passes per image, batches of 3 span images; RISE: 10 per image, batches of 4.
        IExplanationMethod method = MethodCatalog.Create(name, new MethodSettings().With(RiseMethod.Masks, 10).With(CommonOptions.Seed, 5));
        using CamExplainer explainer = Squares(batch);
        var together = explainer.ExplainMany(Images, BothClasses, method);

        together.Should().HaveCount(Images.Length);
        for (int i = 0; i < Images.Length; i++)
        {
            var alone = explainer.ExplainTargets(Images[i], BothClasses, method);
            for (int t = 0; t < BothClasses.Length; t++)
            {
                Explanation a = alone[t], b = together[i][t];
                b.Map.Values.Should().Equal(a.Map.Values, $"image {i}, target {t}");
                b.Heatmap.Values.Should().Equal(a.Heatmap.Values);
                b.ChannelWeights.Should().Equal(a.ChannelWeights);
                (b.ForwardPasses, b.SkippedChannels, b.Target, b.Prediction).Should().Be((a.ForwardPasses, a.SkippedChannels, a.Target, a.Prediction));
            }
        }
    }

    [Test]
    public void The_default_model_explains_two_images_together_as_it_does_each_alone()
    {
        using var explainer = CamExplainer.Open(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"), new ExplainerOptions
        {
            Method = new ScoreCamMethod(new ScoreCamOptions { MaxChannels = 6 }),
            Inference = new InferenceOptions { BatchSize = 4 },
        });
        using var picture = explainer.LoadImage(Repository.Path("onnx-models", "fashion-clutter", "sample.png"));
        ImageTensor sample = explainer.Preprocess(picture);
        ImageTensor flipped = new(sample.Data.Reverse().ToArray(), sample.Channels, sample.Height, sample.Width);
        var together = explainer.ExplainMany(new[] { sample, flipped }, new[] { ExplanationTarget.TopPrediction });
        together[0][0].Map.Values.Should().Equal(explainer.Explain(sample).Map.Values);
        together[1][0].Map.Values.Should().Equal(explainer.Explain(flipped).Map.Values);
        together[0][0].ForwardPasses.Should().Be(7);
    }

    [Test]
    public void Progress_counts_every_images_passes_and_bad_calls_are_refused()
    {
        using CamExplainer explainer = Squares(3);
        var reports = new List<ExplanationProgress>();
        explainer.ExplainMany(Images, BothClasses, new ScoreCamMethod(), new SynchronousProgress(reports.Add));
        reports.Should().NotBeEmpty();
        reports.Select(r => r.Done).Should().BeInAscendingOrder();
        reports[^1].Should().Be(new ExplanationProgress(12, 12), "four channels per image, the constant ones included");

        explainer.Invoking(x => x.ExplainMany(Array.Empty<ImageTensor>(), BothClasses)).Should().Throw<ArgumentException>();
        explainer.Invoking(x => x.ExplainMany(Images, Array.Empty<ExplanationTarget>())).Should().Throw<ArgumentException>();
        var mixed = new[] { Images[0], new ImageTensor(new float[3 * 16 * 16], 3, 16, 16) };
        explainer.Invoking(x => x.ExplainMany(mixed, BothClasses)).Should().Throw<ScoreCamException>().WithMessage("*32x32*");
    }

    private sealed class SynchronousProgress(Action<ExplanationProgress> report) : IProgress<ExplanationProgress>
    {
        public void Report(ExplanationProgress value) => report(value);
    }
}
