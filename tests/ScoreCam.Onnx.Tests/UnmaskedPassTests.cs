using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests;

/// <summary>Several methods explaining one input from one unmasked forward pass.</summary>
public class UnmaskedPassTests
{
    [Test]
    public void Explanations_from_a_shared_pass_equal_explanations_that_run_their_own()
    {
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        using var explainer = new CamExplainer(model);
        var image = TestModels.TwoSquares();
        UnmaskedPass pass = explainer.Forward(image);
        pass.Scores.Should().Equal(explainer.Session.Forward(image).Scores);

        foreach (string name in new[] { "scorecam", "gradcam", "layercam" })
        {
            IExplanationMethod method = MethodCatalog.Create(name);
            Explanation shared = explainer.Explain(pass, ExplanationTarget.Class(1), method);
            Explanation own = explainer.Explain(image, ExplanationTarget.Class(1), method);
            shared.Map.Values.Should().Equal(own.Map.Values, name);
            (shared.Prediction, shared.Target, shared.ForwardPasses).Should().Be((own.Prediction, own.Target, own.ForwardPasses));
            shared.Elapsed.Should().BeGreaterThanOrEqualTo(pass.Duration, "an explanation's time includes the pass it used");
        }
    }

    [Test]
    public void A_pass_belongs_to_the_explainer_that_made_it()
    {
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        using var one = new CamExplainer(model);
        using var other = new CamExplainer(model);
        UnmaskedPass pass = one.Forward(TestModels.TwoSquares());
        FluentActions.Invoking(() => other.Explain(pass)).Should().Throw<ArgumentException>().WithMessage("*another explainer*");
        FluentActions.Invoking(() => one.ExplainTargets(pass, Array.Empty<ExplanationTarget>())).Should().Throw<ArgumentException>();
    }
}
