using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>
/// The Grad-CAM family against straightforward computations, written here from the papers' definitions, on the
/// gradients of an independent gradient-session run; and their maps on the coloured squares.
/// </summary>
public class GradCamMethodTests
{
    private static PreparedModel _model = null!;
    private static ImageTensor _image = null!;
    private static float[] _activations = null!;
    private const int Target = 3;
    private static int _k, _plane;

    [OneTimeSetUp]
    public void Load()
    {
        _model = ModelPreparer.Prepare(Repository.Path("onnx-models", "coverage", "resnet-basic.onnx"));
        var (data, shape) = NpyFile.Read(Repository.Path("onnx-models", "coverage", "resnet-basic.input.npy"));
        _image = new ImageTensor(data[..(shape[1] * shape[2] * shape[3])], shape[1], shape[2], shape[3]);
        using var session = new global::ScoreCam.Onnx.Inference.ModelSession(_model);
        var forward = session.Forward(_image);
        (_activations, _k, _plane) = (forward.Activations, forward.Channels, forward.Height * forward.Width);
    }

    private static float[] Gradients(int target)
    {
        using var session = new GradientSession(_model);
        var seed = new float[_model.OutputSize];
        seed[target] = 1f;
        return session.Run(_activations, seed).Gradients;
    }

    private static Explanation Explain(CamMethod method, int target = Target)
    {
        using var explainer = new CamExplainer(_model, new ExplainerOptions { Method = method });
        return explainer.Explain(_image, ExplanationTarget.Class(target));
    }

    private static IEnumerable<float> Plane(float[] values, int k) => values.Skip(k * _plane).Take(_plane);

    [Test]
    public void Grad_CAM_weights_are_the_spatial_means_of_the_gradients()
    {
        float[] g = Gradients(Target);
        var expected = Enumerable.Range(0, _k).Select(k => (float)Plane(g, k).Average(v => (double)v)).ToArray();
        var method = new GradCamMethod();
        Explain(method).ChannelWeights.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-6f + 1e-4f * Math.Abs(b));
        expected.Should().Contain(v => v != 0);
    }

    [Test]
    public void Grad_CAM_plus_plus_weights_follow_the_closed_form()
    {
        float[] g = Gradients(Target);
        var expected = new float[_k];
        for (int k = 0; k < _k; k++)
        {
            double sumA = Plane(_activations, k).Sum(v => (double)v), w = 0;
            foreach (double gi in Plane(g, k))
            {
                if (gi == 0) continue;
                double alpha = gi * gi / (2 * gi * gi + sumA * gi * gi * gi);
                w += alpha * Math.Max(gi, 0);
            }
            expected[k] = (float)w;
        }
        var method = new GradCamPlusPlusMethod();
        Explain(method).ChannelWeights.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-6f + 1e-4f * Math.Abs(b));
        expected.Should().Contain(v => v > 0);
    }

    [Test]
    public void Grad_CAM_plus_plus_takes_pytorch_grad_cams_epsilon_on_request()
    {
        float[] g = Gradients(Target);
        const double eps = 1e-6; // pytorch-grad-cam's grad_cam_plusplus.py
        var expected = new float[_k];
        for (int k = 0; k < _k; k++)
        {
            double sumA = Plane(_activations, k).Sum(v => (double)v), w = 0;
            foreach (double gi in Plane(g, k))
                if (gi != 0) w += gi * gi / (2 * gi * gi + sumA * gi * gi * gi + eps) * Math.Max(gi, 0);
            expected[k] = (float)w;
        }
        var method = new GradCamPlusPlusMethod(CompatibilityVariant.PytorchGradCam);
        Explain(method).ChannelWeights.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-6f + 1e-4f * Math.Abs(b));
    }

    [Test]
    public void XGrad_CAM_weights_are_activation_weighted_gradient_sums()
    {
        float[] g = Gradients(Target);
        var expected = Enumerable.Range(0, _k).Select(k =>
        {
            double sumA = Plane(_activations, k).Sum(v => (double)v);
            return sumA == 0 ? 0f : (float)(Plane(_activations, k).Zip(Plane(g, k), (a, b) => (double)a * b).Sum() / sumA);
        }).ToArray();
        var method = new XGradCamMethod();
        Explain(method).ChannelWeights.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-6f + 1e-4f * Math.Abs(b));
    }

    [Test]
    public void Layer_CAM_maps_are_element_wise_positive_gradients_times_activations()
    {
        float[] g = Gradients(Target);
        var expected = new float[_plane];
        for (int i = 0; i < _plane; i++)
        {
            double sum = 0;
            for (int k = 0; k < _k; k++) sum += Math.Max(g[k * _plane + i], 0) * (double)_activations[k * _plane + i];
            expected[i] = (float)Math.Max(sum, 0);
        }
        var method = new LayerCamMethod();
        Explanation e = Explain(method);
        e.Method.Should().Be("layercam");
        e.Map.Values.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-5f + 1e-4f * Math.Abs(b));
    }

    [Test]
    public void Several_targets_get_their_own_gradients()
    {
        var method = new GradCamMethod();
        using var explainer = new CamExplainer(_model, new ExplainerOptions { Method = method });
        var both = explainer.ExplainTargets(_image, new[] { ExplanationTarget.Class(1), ExplanationTarget.Class(Target) });
        both[1].ChannelWeights.Should().Equal(Explain(method).ChannelWeights);
        both[0].ChannelWeights.Should().NotEqual(both[1].ChannelWeights);
    }

    [Test]
    public void A_custom_target_is_seeded_with_its_gradient_with_respect_to_the_output()
    {
        // Score = 2·y3 − y1: the seed is (0, −1, 0, 2, 0, ...), so the weights are 2·w(3) − w(1) by linearity.
        var method = new GradCamMethod();
        using var explainer = new CamExplainer(_model, new ExplainerOptions { Method = method });
        Explanation custom = explainer.Explain(_image, ExplanationTarget.Custom("mix", row => 2 * row[3] - row[1]));
        float[] w3 = Explain(method, 3).ChannelWeights, w1 = Explain(method, 1).ChannelWeights;
        custom.ChannelWeights.Should().Equal(w3.Zip(w1, (a, b) => 2 * a - b).ToArray(), (a, b) => Math.Abs(a - b) <= 1e-3f * (1 + Math.Abs(b)));
    }

    [Test]
    public void For_a_model_that_outputs_probabilities_Grad_CAM_differentiates_the_pre_softmax_score()
    {
        var method = new GradCamMethod();
        using var explainer = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares(TestModels.Head.Softmax).Build(), "squares"),
            new ExplainerOptions { Method = method });
        ImageTensor image = TestModels.TwoSquares();
        const float w = 40f / 64f; // GAP over 8×8 then a weight of 40: the closed form W[c]/(h·w)
        explainer.Explain(image, ExplanationTarget.Class(1)).ChannelWeights.Should().Equal(new[] { 0f, w, 0f, 0f }, (a, b) => Math.Abs(a - b) <= 1e-5f);

        // A custom score of the probabilities goes through the Softmax: d p0 / d z_k = p0 (δ0k − p_k).
        float[] p = explainer.Session.Forward(image).Scores;
        float[] custom = explainer.Explain(image, ExplanationTarget.Custom("p0", row => row[0])).ChannelWeights;
        var expected = new[] { p[0] * (1 - p[0]) * w, -p[0] * p[1] * w, -p[0] * p[2] * w, 0f };
        custom.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-3f * w);
    }

    [TestCase("gradcam")]
    [TestCase("gradcam++")]
    [TestCase("xgradcam")]
    [TestCase("layercam")]
    public void On_the_coloured_squares_each_method_points_at_the_target_square(string name)
    {
        IExplanationMethod method = MethodCatalog.Create(name);
        using var explainer = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"), new ExplainerOptions { Method = method });
        ImageTensor image = TestModels.TwoSquares();
        SaliencyMap red = explainer.Explain(image, ExplanationTarget.Class(0)).Map, green = explainer.Explain(image, ExplanationTarget.Class(1)).Map;
        // Red square at pixels (4..11, 4..11) → cells (1..2, 1..2); green at (20..27, 16..23) → cells (5..6, 4..5).
        red[1, 1].Should().BeGreaterThan(0);
        red[5, 4].Should().Be(0);
        green[5, 4].Should().BeGreaterThan(0);
        green[1, 1].Should().Be(0);
    }
}
