using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Methods;

public class RiseTests
{
    private static CamExplainer Explainer(int batch = 16) =>
        new(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"), new ExplainerOptions
        {
            Labels = new[] { "red", "green", "blue" },
            Inference = new InferenceOptions { BatchSize = batch },
        });

    [Test]
    public void The_same_seed_gives_the_same_saliency_whatever_the_batch_size()
    {
        using CamExplainer explainer = Explainer(16), small = Explainer(3);
        ImageTensor image = TestModels.TwoSquares();
        Explanation a = explainer.Explain(image, ExplanationTarget.Class(0), new RiseMethod(new RiseOptions { Masks = 40, Seed = 7 }));
        Explanation b = small.Explain(image, ExplanationTarget.Class(0), new RiseMethod(new RiseOptions { Masks = 40, Seed = 7 }));
        Explanation c = explainer.Explain(image, ExplanationTarget.Class(0), new RiseMethod(new RiseOptions { Masks = 40, Seed = 8 }));
        for (int i = 0; i < a.Map.Values.Length; i++) b.Map.Values[i].Should().BeApproximately(a.Map.Values[i], 1e-6f);
        c.Map.Values.Should().NotEqual(a.Map.Values);
        a.Method.Should().Be("rise");
        a.ForwardPasses.Should().Be(41);
        a.Map.Width.Should().Be(32);
        a.Heatmap.Values.Max().Should().Be(1f);
        a.Heatmap.Values.Min().Should().Be(0f);
        a.Target.Label.Should().Be("red");
    }

    [Test]
    public void Saliency_is_the_score_weighted_sum_of_masks_computed_independently()
    {
        using CamExplainer explainer = Explainer(4);
        ImageTensor image = TestModels.TwoSquares();
        const int n = 6, s = 4, seed = 3;
        const double p = 0.5;
        Explanation e = explainer.Explain(image, ExplanationTarget.Class(1),
            new RiseMethod(new RiseOptions { Masks = n, GridSize = s, KeepProbability = p, Seed = seed }));

        int size = TestModels.Size, cell = size / s, up = (s + 1) * cell;
        var random = new Random(seed);
        var expected = new double[size * size];
        byte[] model = TestModels.ColouredSquares().Build();
        for (int i = 0; i < n; i++)
        {
            var grid = new float[s * s];
            for (int g = 0; g < grid.Length; g++) grid[g] = random.NextDouble() < p ? 1f : 0f;
            int dy = random.Next(cell), dx = random.Next(cell);
            float[] large = Reference.Bilinear(grid, s, s, up, up, alignCorners: false);
            var mask = new float[size * size];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) mask[y * size + x] = large[(y + dy) * up + x + dx];
            var masked = new float[image.Data.Length];
            for (int j = 0; j < masked.Length; j++) masked[j] = image.Data[j] * mask[j % (size * size)];
            float score = Reference.Softmax(Reference.Run(model, new ImageTensor(masked, 3, size, size))["output"])[1];
            for (int j = 0; j < mask.Length; j++) expected[j] += score * mask[j];
        }
        for (int j = 0; j < expected.Length; j++) e.Map.Values[j].Should().BeApproximately((float)(expected[j] / (n * p)), 1e-5f);
    }

    [Test]
    public void On_a_lone_red_square_most_of_the_energy_of_class_0_falls_on_the_square()
    {
        using CamExplainer explainer = Explainer();
        int size = TestModels.Size;
        var data = new float[3 * size * size];
        for (int y = 12; y < 20; y++)
            for (int x = 8; x < 16; x++) data[y * size + x] = 1f;
        Explanation e = explainer.Explain(new ImageTensor(data, 3, size, size), ExplanationTarget.Class(0), new RiseMethod(new RiseOptions { Masks = 4000, Seed = 1 }));
        var square = new BoundingBox(8, 12, 16, 20);
        double share = EnergyPointingGame.Score(e.Heatmap, square), near = EnergyPointingGame.Score(e.Heatmap, square.Enlarge(8));
        TestContext.Out.WriteLine($"energy share in the square: {share:F3}, within 8 px of it: {near:F3}");
        // RISE's masks are smooth over about two grid cells (2 × 4.5 px here), so its saliency spreads around the square.
        share.Should().BeGreaterThan(2.5 * 64.0 / 1024, "the square (6% of the picture) holds 2.5 times its share of the energy or more");
        near.Should().BeGreaterThan(0.55, "most of the energy lies on the square and the masks' blur around it");
        PointingGame.Hit(e.Heatmap, new BoundingBox(8, 12, 16, 20), tolerance: 0).Should().BeTrue();
    }

    [TestCase(0, 4, 4, 20, 16)]
    [TestCase(1, 20, 16, 4, 4)]
    public void On_two_squares_the_explained_class_gets_more_energy_than_the_other(int c, int x, int y, int otherX, int otherY)
    {
        using CamExplainer explainer = Explainer();
        Explanation e = explainer.Explain(TestModels.TwoSquares(), ExplanationTarget.Class(c), new RiseMethod(new RiseOptions { Masks = 1000, Seed = 1 }));
        var own = new BoundingBox(x, y, x + 8, y + 8);
        double inOwn = EnergyPointingGame.Score(e.Heatmap, own.Enlarge(4));
        double inOther = EnergyPointingGame.Score(e.Heatmap, new BoundingBox(otherX, otherY, otherX + 8, otherY + 8).Enlarge(4));
        TestContext.Out.WriteLine($"class {c}: own {inOwn:F3}, other {inOther:F3}");
        inOwn.Should().BeGreaterThan(1.5 * inOther, "the other square is counter-evidence (masking it raises the class's probability)");
        PointingGame.Hit(e.Heatmap, own, tolerance: 2).Should().BeTrue();
    }
}
