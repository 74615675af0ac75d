using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Metrics;

public class SanityCheckTests
{
    [Test]
    public void Spearman_matches_hand_computed_values_with_ties()
    {
        RankCorrelation.Spearman(new float[] { 1, 2, 3, 4 }, new float[] { 10, 20, 30, 40 }).Should().BeApproximately(1, 1e-12);
        RankCorrelation.Spearman(new float[] { 1, 2, 3, 4 }, new float[] { 4, 3, 2, 1 }).Should().BeApproximately(-1, 1e-12);
        // Ranks (1, 2.5, 2.5, 4) against (1, 3, 2, 4): 4.5 / sqrt(4.5 · 5).
        RankCorrelation.Spearman(new float[] { 1, 2, 2, 3 }, new float[] { 1, 3, 2, 4 }).Should().BeApproximately(4.5 / Math.Sqrt(22.5), 1e-12);
        RankCorrelation.Spearman(new float[] { 1, 1, 1 }, new float[] { 1, 2, 3 }).Should().Be(0);
    }

    [Test]
    public void Randomizing_cascades_from_the_logits_down_and_zero_layers_changes_nothing()
    {
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        ImageTensor image = TestModels.TwoSquares();
        using var original = new CamExplainer(model);
        using var same = new CamExplainer(CascadingRandomization.Randomize(model, 0));
        same.Embed(image).Should().Equal(original.Embed(image));

        using var headless = new CamExplainer(CascadingRandomization.Randomize(model, 1, seed: 7));
        headless.Session.Forward(image).Activations.Should().Equal(original.Session.Forward(image).Activations, "the conv below the head is kept");
        headless.Embed(image).Should().NotEqual(original.Embed(image));

        FluentActions.Invoking(() => CascadingRandomization.Randomize(model, 3)).Should().Throw<ScoreCamException>().WithMessage("*only 2 parametric layers*");
    }
}
