using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>
/// Pixel-space methods on a model whose input gradient has a closed form: y = G · flatten(ReLU(W ⋆ x + b)) with a
/// 1×1 convolution W (K×C) and a linear head G; dy_c/dx[i,p] = Σ_k W[k,i] · 1[z_kp &gt; 0] · G[c,k,p]. Guided
/// Backpropagation keeps only the terms whose incoming gradient G[c,k,p] is positive.
/// </summary>
public class PixelSpaceMethodTests
{
    private const int C = 3, K = 4, S = 6, Classes = 3, P = S * S;
    private static readonly float[] W = Random(K * C, 1), B = Random(K, 2), G = Random(Classes * K * P, 3);

    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    private static CamExplainer Explainer(int batch = 4)
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, C, S, S);
        string conv = g.Node("Conv", new[] { x, g.Weights("w", W, K, C, 1, 1), g.Weights("b", B, K) }, "conv", Ints("kernel_shape", 1, 1));
        string features = g.Node("Relu", new[] { conv }, "features");
        string flat = g.Node("Flatten", new[] { features }, "flat");
        g.Node("Gemm", new[] { flat, g.Weights("g", G, Classes, K * P), g.Weights("gb", new float[Classes], Classes) }, "output", Int("transB", 1));
        g.Output("output", null, Classes);
        return new CamExplainer(ModelPreparer.Prepare(g.Build(), "linear-relu"), new ExplainerOptions
        {
            Preprocess = new ScoreCam.Onnx.Imaging.PreprocessOptions { Width = S, Height = S },
            Inference = new InferenceOptions { BatchSize = batch },
        });
    }

    private static ImageTensor Input(int seed = 4) => new(Random(C * P, seed), C, S, S);

    /// <summary>The closed-form input gradient of class <paramref name="c"/> at <paramref name="x"/>.</summary>
    private static double[] Gradient(float[] x, int c, bool guided)
    {
        var grad = new double[C * P];
        for (int k = 0; k < K; k++)
            for (int p = 0; p < P; p++)
            {
                double z = B[k];
                for (int i = 0; i < C; i++) z += W[k * C + i] * x[i * P + p];
                double incoming = G[c * K * P + k * P + p];
                if (z <= 0 || (guided && incoming <= 0)) continue;
                for (int i = 0; i < C; i++) grad[i * P + p] += W[k * C + i] * incoming;
            }
        return grad;
    }

    private static double Score(float[] x, int c)
    {
        double y = 0;
        for (int k = 0; k < K; k++)
            for (int p = 0; p < P; p++)
            {
                double z = B[k];
                for (int i = 0; i < C; i++) z += W[k * C + i] * x[i * P + p];
                y += G[c * K * P + k * P + p] * Math.Max(z, 0);
            }
        return y;
    }

    private static void ShouldMatch(float[] actual, double[] expected, double tolerance = 1e-5)
    {
        actual.Should().HaveCount(expected.Length);
        for (int i = 0; i < expected.Length; i++) ((double)actual[i]).Should().BeApproximately(expected[i], tolerance, $"element {i}");
    }

    [TestCase(0, false)]
    [TestCase(2, false)]
    [TestCase(1, true)]
    public void Vanilla_and_guided_gradients_equal_the_closed_form(int c, bool guided)
    {
        using CamExplainer explainer = Explainer();
        ImageTensor x = Input();
        Explanation e = explainer.Explain(x, ExplanationTarget.Class(c), MethodCatalog.Create(guided ? "guided-backprop" : "gradient"));
        e.Attribution.Should().NotBeNull();
        (e.Attribution!.Channels, e.Attribution.Height, e.Attribution.Width).Should().Be((C, S, S));
        ShouldMatch(e.Attribution.Values, Gradient(x.Data, c, guided));
        // The map is max |·| over channels (Simonyan et al.).
        for (int p = 0; p < P; p++) e.Map.Values[p].Should().Be(Enumerable.Range(0, C).Max(i => Math.Abs(e.Attribution.Values[i * P + p])));
    }

    [Test]
    public void Gradient_times_input_is_the_input_times_the_closed_form_gradient()
    {
        using CamExplainer explainer = Explainer();
        ImageTensor x = Input();
        float[] actual = explainer.Explain(x, ExplanationTarget.Class(1), MethodCatalog.Create("input-x-gradient")).Attribution!.Values;
        double[] g = Gradient(x.Data, 1, guided: false);
        ShouldMatch(actual, g.Select((v, i) => v * x.Data[i]).ToArray());
    }

    [Test]
    public void Guided_backpropagation_differs_from_the_plain_gradient_where_the_head_has_negative_weights()
    {
        using CamExplainer explainer = Explainer();
        ImageTensor x = Input();
        float[] plain = explainer.Explain(x, ExplanationTarget.Class(0), new VanillaGradientMethod()).Attribution!.Values;
        float[] guided = explainer.Explain(x, ExplanationTarget.Class(0), new GuidedBackpropMethod()).Attribution!.Values;
        plain.Zip(guided).Count(v => Math.Abs(v.First - v.Second) > 1e-4).Should().BeGreaterThan(C * P / 4);
    }

    [Test]
    public void SmoothGrad_is_the_mean_closed_form_gradient_over_the_same_noisy_copies()
    {
        using CamExplainer explainer = Explainer(batch: 3);
        ImageTensor x = Input();
        var options = new SmoothGradOptions { Samples = 7, Noise = 0.2, Seed = 11 };
        float[] actual = explainer.Explain(x, ExplanationTarget.Class(1), new SmoothGradMethod(options)).Attribution!.Values;

        // An independent draw of the same noise: Box–Muller from one seeded Random, copy by copy, element by element.
        double sigma = 0.2 * (x.Data.Max() - x.Data.Min());
        var random = new Random(11);
        var expected = new double[C * P];
        for (int s = 0; s < 7; s++)
        {
            var noisy = new float[C * P];
            for (int i = 0; i < noisy.Length; i++)
            {
                double u1 = random.NextDouble(), u2 = random.NextDouble();
                noisy[i] = (float)(x.Data[i] + sigma * Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2));
            }
            double[] g = Gradient(noisy, 1, guided: false);
            for (int i = 0; i < g.Length; i++) expected[i] += g[i] / 7;
        }
        ShouldMatch(actual, expected);
    }

    [TestCase(IntegratedGradientsBaseline.Zeros)]
    [TestCase(IntegratedGradientsBaseline.Blur)]
    public void Integrated_gradients_are_the_right_Riemann_sum_and_report_their_completeness_error(IntegratedGradientsBaseline baseline)
    {
        using CamExplainer explainer = Explainer(batch: 5);
        ImageTensor x = Input();
        const int m = 9;
        Explanation e = explainer.Explain(x, ExplanationTarget.Class(2),
            new IntegratedGradientsMethod(new IntegratedGradientsOptions { Steps = m, Baseline = baseline, BlurKernelSize = 3, BlurSigma = 1 }));

        float[] reference = new float[C * P];
        if (baseline == IntegratedGradientsBaseline.Blur) new ScoreCam.Onnx.Kernels.GaussianBlur(3, 1).Apply(x.Data, C, S, S, reference);
        var expected = new double[C * P];
        for (int k = 1; k <= m; k++)
        {
            var point = new float[C * P];
            for (int i = 0; i < point.Length; i++) point[i] = reference[i] + (float)k / m * (x.Data[i] - reference[i]);
            double[] g = Gradient(point, 2, guided: false);
            for (int i = 0; i < g.Length; i++) expected[i] += (x.Data[i] - reference[i]) * g[i] / m;
        }
        ShouldMatch(e.Attribution!.Values, expected);
        double difference = Score(x.Data, 2) - Score(reference, 2);
        e.Extras!["score_difference"].Should().BeApproximately(difference, 1e-4);
        e.Extras["completeness_error"].Should().BeApproximately(expected.Sum() - difference, 1e-4);
        e.ForwardPasses.Should().Be(1 + m + 1, "the unmasked pass, the baseline and m path points");
    }

    [Test]
    public void Guided_ScoreCam_is_the_ScoreCam_heatmap_times_guided_backpropagation_channel_by_channel()
    {
        using CamExplainer explainer = Explainer();
        ImageTensor x = Input();
        Explanation combined = explainer.Explain(x, ExplanationTarget.Class(0), MethodCatalog.Create("guided-scorecam"));
        SaliencyMap heat = explainer.Explain(x, ExplanationTarget.Class(0), MethodCatalog.Create("scorecam")).Heatmap;
        double[] guided = Gradient(x.Data, 0, guided: true);
        var expected = new double[C * P];
        for (int i = 0; i < C; i++)
            for (int p = 0; p < P; p++) expected[i * P + p] = guided[i * P + p] * heat.Values[p]; // eq. 6
        ShouldMatch(combined.Attribution!.Values, expected);
        combined.Method.Should().Be("guided-scorecam");
        combined.ChannelWeights.Should().HaveCount(K, "Score-CAM's channel weights are kept");
    }

    [Test]
    public void Every_catalogue_method_explains_the_model_and_fills_the_heatmap()
    {
        using CamExplainer explainer = Explainer();
        foreach (string name in MethodCatalog.Names)
        {
            var settings = new MethodSettings().With(RiseMethod.Masks, 20).With(SmoothGradMethod.Samples, 3);
            Explanation e = explainer.Explain(Input(), ExplanationTarget.Class(1), MethodCatalog.Create(name, settings));
            e.Method.Should().Be(name);
            e.Heatmap.Values.Should().HaveCount(P);
            // Group-CAM's map is ReLU(Σ_l (score_l − baseline) M_l): all zero where no group raises the class's probability
            // above the blurred input's, as on this random model (its definition is checked against a reference elsewhere).
            if (name == "groupcam" && e.Heatmap.Values.Max() == 0) continue;
            e.Heatmap.Values.Max().Should().BeApproximately(1f, 1e-6f, name);
        }
    }

    [TestCase(0)]
    [TestCase(2)]
    public void The_probability_gradient_is_the_softmax_jacobian_times_the_closed_form_logit_gradients(int c)
    {
        using CamExplainer explainer = Explainer();
        ImageTensor x = Input();
        var context = Context(explainer, x, c);
        var (gradient, probability) = context.ScoreInputGradient(x.Data, 0, ScoreMode.Probability);
        double[] logits = Enumerable.Range(0, Classes).Select(j => Score(x.Data, j)).ToArray();
        double max = logits.Max(), sum = logits.Sum(z => Math.Exp(z - max));
        double[] p = logits.Select(z => Math.Exp(z - max) / sum).ToArray();
        ((double)probability).Should().BeApproximately(p[c], 1e-5);
        var expected = new double[C * P];
        for (int j = 0; j < Classes; j++)
        {
            double[] g = Gradient(x.Data, j, guided: false);
            for (int i = 0; i < g.Length; i++) expected[i] += p[c] * ((j == c ? 1 : 0) - p[j]) * g[i];
        }
        ShouldMatch(gradient, expected);
    }

    [Test]
    public void The_mask_regularizer_gradient_matches_finite_differences()
    {
        var method = new MaskMethod(new MaskOptions { Size = 5, L1 = 0.3, TotalVariation = 0.7, TotalVariationBeta = 3 });
        var random = new Random(5);
        float[] mask = Enumerable.Range(0, 25).Select(_ => (float)(0.1 + 0.8 * random.NextDouble())).ToArray();
        var gradient = new double[25];
        method.Regularizer(mask, 5, gradient);
        for (int i = 0; i < 25; i++)
        {
            const float h = 1e-3f;
            float[] up = (float[])mask.Clone(), down = (float[])mask.Clone();
            up[i] += h;
            down[i] -= h;
            double numeric = (method.Regularizer(up, 5, new double[25]) - method.Regularizer(down, 5, new double[25])) / ((double)up[i] - down[i]);
            gradient[i].Should().BeApproximately(numeric, 1e-4, $"cell {i}");
        }
    }

    [Test]
    public void The_mask_deletes_the_square_that_carries_the_class_and_is_deterministic()
    {
        using var explainer = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"));
        // The squares model pools globally, so a blur (which keeps a square's mean colour) barely deletes it: delete to 0.
        var options = new MaskOptions { Iterations = 60, Size = 8, Seed = 3, Perturbation = MaskPerturbation.Constant, Noise = 0.05 };
        ImageTensor image = TestModels.TwoSquares();
        Explanation a = explainer.Explain(image, ExplanationTarget.Class(0), new MaskMethod(options));
        Explanation b = explainer.Explain(image, ExplanationTarget.Class(0), new MaskMethod(options));
        a.Map.Values.Should().Equal(b.Map.Values);
        a.Map.Width.Should().Be(8);
        // The red square (class 0's evidence) covers pixels 4..11; the green one 20..27 × 16..23.
        double red = ScoreCamTests.EnergyIn(a.Heatmap, 4, 4, 8), green = ScoreCamTests.EnergyIn(a.Heatmap, 20, 16, 8);
        TestContext.Out.WriteLine($"energy on red {red:F3}, on green {green:F3}, p after {a.Extras!["perturbed_probability"]:F4}, loss {a.Extras["loss"]:F4}");
        red.Should().BeGreaterThan(3 * green);
        a.Extras["perturbed_probability"].Should().BeLessThan(a.Target.Score, "deleting the square lowers the class's probability");
    }

    private static ExplanationContext Context(CamExplainer explainer, ImageTensor x, int c)
    {
        ExplanationContext? captured = null;
        explainer.Explain(x, ExplanationTarget.Class(c), new Capture(ctx => captured = ctx));
        return captured!;
    }

    /// <summary>Hands the context out, to call its helpers directly.</summary>
    private sealed class Capture(Action<ExplanationContext> capture) : IExplanationMethod
    {
        public string Name => "capture";

        public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
        {
            capture(context);
            return context.Targets.Select(_ => new MethodResult(new SaliencyMap(1, 1, new[] { 1f }))).ToList();
        }
    }
}
