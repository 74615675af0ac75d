using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>A kind of target written outside the library, in one record, works with forward-only and gradient methods.</summary>
public class OpenTargetTests
{
    /// <summary>The margin of class A over class B: y_A − y_B (or p_A − p_B), with its analytic derivative.</summary>
    private sealed record Margin(int A, int B, bool Analytic = true) : ExplanationTarget
    {
        public override ResolvedTarget Resolve(TargetModel model) => new Bound(this, model.Model.OutputSize);

        private sealed class Bound(Margin m, int size) : ResolvedTarget($"{m.A} over {m.B}")
        {
            public override float Score(TargetOutputs outputs, ScoreMode mode) =>
                mode == ScoreMode.RawScore ? outputs.Values[m.A] - outputs.Values[m.B] : outputs.Probabilities[m.A] - outputs.Probabilities[m.B];

            public override void Derivative(TargetOutputs outputs, Span<float> seed)
            {
                if (!m.Analytic)
                {
                    base.Derivative(outputs, seed);
                    return;
                }
                outputs.Values.Length.Should().Be(size);
                seed.Clear();
                (seed[m.A], seed[m.B]) = (1, -1);
            }
        }
    }

    private static PreparedModel _model = null!;
    private static ImageTensor _image = null!;

    [OneTimeSetUp]
    public void Load()
    {
        _model = ModelPreparer.Prepare(Repository.Path("onnx-models", "coverage", "resnet-basic.onnx"));
        var (data, shape) = NpyFile.Read(Repository.Path("onnx-models", "coverage", "resnet-basic.input.npy"));
        _image = new ImageTensor(data[..(shape[1] * shape[2] * shape[3])], shape[1], shape[2], shape[3]);
    }

    [Test]
    public void Grad_CAM_of_a_new_kind_is_its_seed_applied_by_linearity_and_the_default_derivative_agrees()
    {
        using var explainer = new CamExplainer(_model, new ExplainerOptions { Method = new GradCamMethod() });
        var e = explainer.ExplainTargets(_image, new ExplanationTarget[] { new Margin(3, 1), new Margin(3, 1, Analytic: false), ExplanationTarget.Class(3), ExplanationTarget.Class(1) });
        float[] expected = e[2].ChannelWeights.Zip(e[3].ChannelWeights, (a, b) => a - b).ToArray();
        e[0].ChannelWeights.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-5f * (1 + Math.Abs(b)));
        e[1].ChannelWeights.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-3f * (1 + Math.Abs(b)), "central differences of a linear score are exact up to rounding");
        e[0].Target.Name.Should().Be("3 over 1");
        e[0].Target.Index.Should().BeNull();
    }

    [Test]
    public void Score_CAM_weighs_masked_inputs_by_the_new_kinds_score()
    {
        using var explainer = new CamExplainer(_model, new ExplainerOptions { Method = new ScoreCamMethod() });
        var e = explainer.ExplainTargets(_image, new ExplanationTarget[] { new Margin(3, 1), ExplanationTarget.Class(3), ExplanationTarget.Class(1) });
        float[] p = explainer.Probabilities(_image);
        e[0].Target.Score.Should().BeApproximately(p[3] - p[1], 1e-6f);
        // Score-CAM's weight of channel k is the masked input's score (eq. 4), so the margin's weights are the classes' difference.
        e[0].ChannelWeights.Should().Equal(e[1].ChannelWeights.Zip(e[2].ChannelWeights, (a, b) => a - b).ToArray(), (a, b) => Math.Abs(a - b) <= 1e-6f);
    }

    [Test]
    public void A_target_that_reads_an_output_the_pass_does_not_hold_is_refused_naming_it()
    {
        var target = ExplanationTarget.Custom("x", _ => 0);
        using var explainer = new CamExplainer(_model);
        var outputs = new TargetModel(_model, null, explainer.Embed(_image));
        FluentActions.Invoking(() => { _ = outputs.Unmasked["boxes"].Length; }).Should().Throw<ScoreCamException>().WithMessage("*'boxes'*prepared to score*");
        target.Resolve(outputs).Name.Should().Be("x");
    }
}
