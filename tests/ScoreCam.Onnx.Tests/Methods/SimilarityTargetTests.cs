using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Methods;

public class SimilarityTargetTests
{
    [Test]
    public void Explaining_similarity_to_a_red_only_reference_highlights_the_red_square()
    {
        using var explainer = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"));
        ImageTensor both = TestModels.TwoSquares();
        // The reference shows only the red square: its output vector points along the red class.
        var redOnly = (float[])both.Data.Clone();
        Array.Clear(redOnly, 32 * 32, 32 * 32);
        float[] reference = explainer.Embed(new ImageTensor(redOnly, 3, 32, 32));

        Explanation e = explainer.Explain(both, SimilarityTarget.Cosine(reference, "like red"));
        e.Target.Index.Should().BeNull();
        e.Target.Name.Should().Be("like red");
        ScoreCamTests.EnergyIn(e.Heatmap, 4, 4, 8).Should().BeGreaterThan(0.5);

        float[] output = explainer.Embed(both);
        double cos = output.Zip(reference, (a, b) => (double)a * b).Sum() /
                     Math.Sqrt(output.Sum(a => (double)a * a) * reference.Sum(b => (double)b * b));
        e.Target.Score.Should().BeApproximately((float)cos, 1e-5f);
    }

    [Test]
    public void A_zero_reference_is_refused()
    {
        FluentActions.Invoking(() => SimilarityTarget.Cosine(new float[3])).Should().Throw<ScoreCamException>().WithMessage("*all zeros*");
    }
}
