using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Experiments;

public class FgsmTests
{
    /// <summary>
    /// A picture of three flat colour planes with mild texture, all in (0.6, 0.9): every value of the coloured-squares
    /// model's conv is positive, so its logits are linear in the input, z_c = 40 · mean(x_c), and the cross-entropy
    /// gradient is known in closed form: dL/dx_c = (softmax(z)_c − [c = t]) · 40 / (H·W).
    /// </summary>
    private static (float[] Picture, ImageTensor Input) Picture(PreprocessOptions p)
    {
        int size = TestModels.Size, plane = size * size;
        var picture = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) picture[c * plane + i] = 0.62f + 0.08f * c + 0.1f * ((i * 7 + c * 3) % 5) / 4f;
        var x = new float[picture.Length];
        for (int i = 0; i < x.Length; i++) x[i] = (picture[i] * p.Scale - p.Mean[i / plane]) / p.Std[i / plane];
        return (picture, new ImageTensor(x, 3, size, size));
    }

    private static CamExplainer Explainer(TestModels.Head head) =>
        new(ModelPreparer.Prepare(TestModels.ColouredSquares(head).Build(), "squares"),
            new ExplainerOptions { Preprocess = new PreprocessOptions { Width = TestModels.Size, Height = TestModels.Size } });

    [TestCase(false, 0)]
    [TestCase(false, 2)] // blue is predicted with P = 1 − 2e-19: softmax − onehot must keep its negative sign
    [TestCase(true, 1)]
    public void The_step_follows_the_sign_of_the_closed_form_loss_gradient_in_picture_space(bool softmaxHead, int target)
    {
        using var explainer = Explainer(softmaxHead ? TestModels.Head.Softmax : TestModels.Head.Logits);
        PreprocessOptions p = explainer.Preprocessing;
        var (picture, input) = Picture(p);
        const float epsilon = 0.05f;
        AdversarialExample a = Fgsm.Attack(explainer, input, epsilon, ExplanationTarget.Class(target));

        int plane = TestModels.Size * TestModels.Size;
        for (int i = 0; i < picture.Length; i++)
        {
            int c = i / plane;
            float sign = c == target ? -1f : 1f; // softmax(z)_c − [c = t]: negative for the target's own plane only
            float expected = (Math.Clamp(picture[i] + epsilon * sign, 0f, 1f) * p.Scale - p.Mean[c]) / p.Std[c];
            a.Input.Data[i].Should().BeApproximately(expected, 1e-5f, $"value {i}");
        }
        a.TargetClass.Should().Be(target);
        a.Epsilon.Should().Be(epsilon);
    }

    [Test]
    public void The_probabilities_after_the_attack_are_the_models_on_the_adversarial_input()
    {
        using var explainer = Explainer(TestModels.Head.Logits);
        var (_, input) = Picture(explainer.Preprocessing);
        AdversarialExample a = Fgsm.Attack(explainer, input, 0.05f);
        byte[] model = TestModels.ColouredSquares().Build();
        float[] before = Reference.Softmax(Reference.Run(model, input)["output"]);
        float[] after = Reference.Softmax(Reference.Run(model, a.Input)["output"]);

        a.TargetClass.Should().Be(2, "blue is the brightest plane");
        a.Before.Index.Should().Be(2);
        a.TargetBefore.Should().BeApproximately(before[2], 1e-5f);
        a.TargetAfter.Should().BeApproximately(after[2], 1e-5f);
        a.After.Index.Should().Be(Array.IndexOf(after, after.Max()));
        a.After.Probability.Should().BeApproximately(after.Max(), 1e-5f);
        a.TargetAfter.Should().BeLessThan(a.TargetBefore, "the step raises the loss of the attacked class");
    }

    [Test]
    public void The_step_goes_through_scale_mean_and_std_and_clips_to_the_picture_range()
    {
        var p = new PreprocessOptions { Width = 2, Height = 1, Scale = 255, Mean = new[] { 100f, 110f, 120f }, Std = new[] { 50f, 60f, 70f } };
        float[] picture = { 0.5f, 0.99f, 0.01f, 0.3f, 0.7f, 0.2f };
        var x = picture.Select((v, i) => (v * 255 - p.Mean[i / 2]) / p.Std[i / 2]).ToArray();
        float[] gradient = { 2f, 3f, -1f, 0f, -0.001f, 5f };
        ImageTensor adversarial = Fgsm.Step(new ImageTensor(x, 3, 1, 2), gradient, p, 0.04f);
        float[] expectedPicture = { 0.54f, 1f, 0f, 0.3f, 0.66f, 0.24f }; // +ε, clipped at 1, clipped at 0, sign(0) = 0, −ε, +ε
        for (int i = 0; i < 6; i++)
            ((adversarial.Data[i] * p.Std[i / 2] + p.Mean[i / 2]) / 255f).Should().BeApproximately(expectedPicture[i], 1e-5f, $"value {i}");
    }

    [Test]
    public void On_the_default_model_a_small_step_raises_the_loss_of_the_predicted_class()
    {
        using var explainer = CamExplainer.Open(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        using var picture = explainer.LoadImage(Repository.Path("onnx-models", "fashion-clutter", "sample.png"));
        AdversarialExample a = Fgsm.Attack(explainer, explainer.Preprocess(picture), 2f / 255f);
        a.Before.Label.Should().Be("Ankle boot");
        a.TargetAfter.Should().BeLessThan(a.TargetBefore);
        a.Input.Data.Should().NotEqual(explainer.Preprocess(picture).Data);
    }

    [Test]
    public void Bad_requests_are_refused()
    {
        using var explainer = Explainer(TestModels.Head.Logits);
        var (_, input) = Picture(explainer.Preprocessing);
        FluentActions.Invoking(() => Fgsm.Attack(explainer, input, -0.1f)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*non-negative*");
        FluentActions.Invoking(() => Fgsm.Attack(explainer, input, 0.1f, ExplanationTarget.Custom("s", r => r[0])))
            .Should().Throw<ArgumentException>().WithMessage("*custom target*");
        FluentActions.Invoking(() => Fgsm.Step(input, new float[3], explainer.Preprocessing, 0.1f)).Should().Throw<ArgumentException>();
    }
}
