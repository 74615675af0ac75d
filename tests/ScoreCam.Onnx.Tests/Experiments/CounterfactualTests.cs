using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Experiments;

public class CounterfactualTests
{
    private static CamExplainer Explainer(TestModels.Head head = TestModels.Head.Logits) =>
        new(ModelPreparer.Prepare(TestModels.ColouredSquares(head).Build(), "squares"), new ExplainerOptions
        {
            Labels = new[] { "red", "green", "blue" }.Take(head == TestModels.Head.SingleLogit ? 1 : 3).ToList(),
            Inference = new InferenceOptions { BatchSize = 2 },
        });

    /// <summary>A red 8×8 square with a smaller green one touching it and a faint blue one: red, then green, then blue.</summary>
    private static ImageTensor Squares()
    {
        int size = TestModels.Size, plane = size * size;
        var data = new float[3 * plane];
        void Fill(int channel, int x0, int y0, int side, float value)
        {
            for (int y = y0; y < y0 + side; y++)
                for (int x = x0; x < x0 + side; x++) data[channel * plane + y * size + x] = value;
        }
        Fill(0, 8, 8, 8, 1f);
        Fill(1, 16, 8, 4, 1f);
        Fill(2, 24, 24, 4, 0.5f);
        return new ImageTensor(data, 3, size, size);
    }

    [Test]
    public void The_map_is_relu_of_the_difference_of_two_independently_computed_score_cam_maps()
    {
        using var explainer = Explainer();
        ImageTensor image = Squares();
        CounterfactualExplanation e = Counterfactual.Explain(explainer, image, ExplanationTarget.Class(0), ExplanationTarget.Label("green"));

        float[] target = explainer.Explain(image, ExplanationTarget.Class(0)).Map.Values;
        float[] reference = explainer.Explain(image, ExplanationTarget.Class(1)).Map.Values;
        e.Explanation.Map.Values.Should().HaveCount(64);
        for (int i = 0; i < 64; i++) e.Explanation.Map.Values[i].Should().BeApproximately(Math.Max(0f, target[i] - reference[i]), 1e-6f);
        e.Explanation.Map.Values.Should().Contain(v => v > 0f);
        target.Zip(reference).Should().Contain(p => p.First < p.Second, "the green square's map exceeds the red one's somewhere, so ReLU cuts");
        e.Explanation.Target.Index.Should().Be(0);
        e.ReferenceExplanation.Target.Label.Should().Be("green");
        e.Explanation.Heatmap.Values.Max().Should().Be(1f);
    }

    [Test]
    public void Both_maps_come_from_one_set_of_masked_passes()
    {
        using var explainer = Explainer();
        ImageTensor image = Squares();
        int single = explainer.Explain(image, ExplanationTarget.Class(0)).ForwardPasses;
        CounterfactualExplanation e = Counterfactual.Explain(explainer, image);
        e.TargetExplanation.ForwardPasses.Should().Be(single, "the reference's map costs no extra masked pass");
        e.Explanation.ForwardPasses.Should().Be(single + 2, "plus the pass that ranks the classes and the masked-input check");
    }

    [Test]
    public void The_check_probabilities_equal_the_model_run_independently_on_the_input_masked_by_one_minus_the_map()
    {
        using var explainer = Explainer();
        ImageTensor image = Squares();
        CounterfactualExplanation e = Counterfactual.Explain(explainer, image);
        e.Explanation.Target.Index.Should().Be(0, "red is the top prediction");
        e.ReferenceExplanation.Target.Index.Should().Be(1, "green is the second most probable class");

        float[] up = Reference.Bilinear(e.Explanation.Map.Values, 8, 8, 32, 32, alignCorners: false);
        float min = up.Min(), max = up.Max();
        int plane = 32 * 32;
        var masked = new float[image.Data.Length];
        for (int i = 0; i < masked.Length; i++) masked[i] = image.Data[i] * (1f - (up[i % plane] - min) / (max - min));
        byte[] model = TestModels.ColouredSquares().Build();
        float[] before = Reference.Softmax(Reference.Run(model, image)["output"]);
        float[] after = Reference.Softmax(Reference.Run(model, new ImageTensor(masked, 3, 32, 32))["output"]);

        e.Check.TargetOnInput.Should().BeApproximately(before[0], 1e-5f);
        e.Check.ReferenceOnInput.Should().BeApproximately(before[1], 1e-5f);
        e.Check.TargetOnMasked.Should().BeApproximately(after[0], 1e-5f);
        e.Check.ReferenceOnMasked.Should().BeApproximately(after[1], 1e-5f);
        e.Check.TargetOnMasked.Should().BeLessThan(e.Check.TargetOnInput, "masking the red evidence lowers red");
        e.Check.ReferenceOnMasked.Should().BeGreaterThan(e.Check.ReferenceOnInput);
        e.MaskedInput.Data.Should().Equal(masked, (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Test]
    public void The_default_reference_of_another_target_is_the_most_probable_other_class()
    {
        using var explainer = Explainer();
        CounterfactualExplanation e = Counterfactual.Explain(explainer, Squares(), ExplanationTarget.Class(1));
        e.ReferenceExplanation.Target.Index.Should().Be(0);
    }

    [Test]
    public void Bad_requests_are_refused_with_what_to_do()
    {
        using (var explainer = Explainer())
        {
            FluentActions.Invoking(() => Counterfactual.Explain(explainer, Squares(), ExplanationTarget.Class(1), ExplanationTarget.Label("GREEN")))
                .Should().Throw<ScoreCamException>().WithMessage("*same class*two different classes*");
            FluentActions.Invoking(() => Counterfactual.Explain(explainer, Squares(), ExplanationTarget.Class(7)))
                .Should().Throw<ScoreCamException>().WithMessage("*out of range*");
            FluentActions.Invoking(() => Counterfactual.Explain(explainer, Squares(), ExplanationTarget.Custom("sum", row => row[0] + row[1])))
                .Should().Throw<ArgumentException>().WithMessage("*custom targets*");
        }
        using var single = Explainer(TestModels.Head.SingleLogit);
        FluentActions.Invoking(() => Counterfactual.Explain(single, Squares()))
            .Should().Throw<ScoreCamException>().WithMessage("*single output*");
    }
}
