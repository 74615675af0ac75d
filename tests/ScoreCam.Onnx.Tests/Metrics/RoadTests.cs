using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Tests.Methods.References;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Metrics;

/// <summary>
/// ROAD and its noisy linear imputation against tools/methods/make_road_reference.py (scipy's sparse direct solver,
/// the same seeded noise, the default model run in torch): Fixtures/road.reference.json.
/// </summary>
public class RoadTests
{
    private static readonly JsonElement Fixture =
        JsonDocument.Parse(File.ReadAllText(Repository.Path("tests", "ScoreCam.Onnx.Tests", "Metrics", "Fixtures", "road.reference.json"))).RootElement;

    [Test]
    public void The_imputation_solves_the_neighbour_system_and_adds_the_seeded_noise()
    {
        JsonElement small = Fixture.GetProperty("small");
        float[] image = small.GetProperty("image").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        bool[] removed = small.GetProperty("removed").EnumerateArray().Select(e => e.GetInt32() == 1).ToArray();
        var imputed = new float[image.Length];
        NoisyLinearImputation.Impute(image, 3, 9, 7, removed, 0.01, new Random(small.GetProperty("seed").GetInt32()), imputed);
        imputed.Should().Equal(small.GetProperty("imputed").EnumerateArray().Select(e => (float)e.GetDouble()), (a, b) => Math.Abs(a - b) <= 1e-5f);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < removed.Length; p++)
                if (!removed[p]) imputed[c * 63 + p].Should().Be(image[c * 63 + p], "kept pixels are copied");
    }

    [Test]
    public void MoRF_and_LeRF_on_the_default_model_match_the_reference()
    {
        string model = MethodReference.DefaultModel;
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(model));
        var heat = new float[96 * 96];
        for (int y = 0; y < 96; y++)
            for (int x = 0; x < 96; x++) heat[y * 96 + x] = (float)(0.5 + 0.5 * Math.Sin(0.21 * x + 0.13 * y) * Math.Cos(0.17 * y));
        var (morf, lerf) = Road.Measure(explainer.Runner, MethodReference.Input(model), new SaliencyMap(96, 96, heat), Fixture.GetProperty("class").GetInt32());
        morf.Should().BeApproximately(Fixture.GetProperty("morf").GetDouble(), 1e-4);
        lerf.Should().BeApproximately(Fixture.GetProperty("lerf").GetDouble(), 1e-4);
    }

    [Test]
    public void Removing_every_pixel_is_refused() =>
        FluentActions.Invoking(() => NoisyLinearImputation.Impute(new float[4], 1, 2, 2, new[] { true, true, true, true }, 0, new Random(0), new float[4]))
            .Should().Throw<ArgumentException>().WithMessage("*kept*");
}
