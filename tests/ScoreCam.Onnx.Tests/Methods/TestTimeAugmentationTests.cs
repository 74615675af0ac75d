using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>
/// pytorch-grad-cam's aug_smooth (<see cref="TestTimeAugmentation"/>, the catalogue's aug-smooth) against a second,
/// straightforward implementation (each copy made by hand, explained on its own for the same classes, its display
/// heatmap flipped back by hand and the six averaged), the PyTorch reference of tools/methods, and the analytic case of a
/// left-right symmetric input.
/// </summary>
public class TestTimeAugmentationTests
{
    private static readonly (bool Flip, float Factor)[] Copies = { (false, 0.9f), (false, 1f), (false, 1.1f), (true, 0.9f), (true, 1f), (true, 1.1f) };

    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Grad_CAM_smoothed_matches_the_reference(string model) =>
        MethodReference.Check(model, "gradcam/aug-smooth", MethodCatalog.Create("gradcam", new MethodSettings().With(CommonOptions.AugSmooth, true)));

    [TestCase("gradcam")]
    [TestCase("scorecam")]
    [TestCase("groupcam")]
    public void Equals_the_mean_of_the_copies_explained_one_by_one(string name)
    {
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(MethodReference.DefaultModel));
        ImageTensor input = MethodReference.Input(MethodReference.DefaultModel);
        int[] classes = MethodReference.Classes(MethodReference.DefaultModel).ToArray();
        var targets = classes.Select(ExplanationTarget.Class).ToArray();
        IExplanationMethod method = MethodCatalog.Create(name), smoothed = MethodCatalog.Create(name, new MethodSettings().With(CommonOptions.AugSmooth, true));
        smoothed.Should().BeOfType<TestTimeAugmentation>();

        IReadOnlyList<Explanation> ours = explainer.ExplainTargets(input, targets, smoothed);
        int width = input.Width, height = input.Height;
        var expected = classes.Select(_ => new double[width * height]).ToArray();
        int methodPasses = 0;
        foreach (var (flip, factor) in Copies)
        {
            var copy = new float[input.Data.Length];
            for (int c = 0; c < input.Channels; c++)
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                copy[(c * height + y) * width + x] = factor * input.Data[(c * height + y) * width + (flip ? width - 1 - x : x)];
            IReadOnlyList<Explanation> alone = explainer.ExplainTargets(new ImageTensor(copy, input.Channels, height, width), targets, method);
            methodPasses = alone[0].ForwardPasses - 1;
            for (int t = 0; t < classes.Length; t++)
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                expected[t][y * width + x] += alone[t].Heatmap.Values[y * width + (flip ? width - 1 - x : x)] / 6.0;
        }
        for (int t = 0; t < classes.Length; t++)
        {
            ours[t].Map.Width.Should().Be(width);
            ours[t].Map.Values.Select((v, i) => Math.Abs(v - expected[t][i])).Max().Should().BeLessThan(1e-5, $"{name}, class {classes[t]}");
        }
        // The unmasked pass, five more for the transformed copies, and the method's own passes for each of the six.
        ours[0].ForwardPasses.Should().Be(1 + 5 + 6 * methodPasses);
        smoothed.Settings["aug-smooth"].Should().Be("true");
        method.Settings.Should().NotContainKey("aug-smooth");
    }

    [Test]
    public void A_left_right_symmetric_input_gets_a_symmetric_map()
    {
        // The flipped copy of a symmetric input is the input itself, so its map flipped back is the unflipped copy's map
        // mirrored: each factor contributes (m + mirror(m)) / 2, symmetric whatever m is. The network is not symmetric,
        // so m alone is not (checked, so that the test can fail).
        using var explainer = CamExplainer.Open(MethodReference.ModelPath(MethodReference.DefaultModel));
        ImageTensor input = MethodReference.Input(MethodReference.DefaultModel);
        int width = input.Width, height = input.Height;
        var data = (float[])input.Data.Clone();
        for (int row = 0; row < data.Length; row += width)
        for (int x = width / 2; x < width; x++)
            data[row + x] = data[row + width - 1 - x];
        var symmetric = new ImageTensor(data, input.Channels, height, width);

        static double Asymmetry(SaliencyMap map) =>
            Enumerable.Range(0, map.Height * map.Width).Max(i => Math.Abs(map.Values[i] - map.Values[i - i % map.Width + map.Width - 1 - i % map.Width]));
        Explanation plain = explainer.Explain(symmetric, method: new GradCamMethod());
        Explanation smoothed = explainer.Explain(symmetric, method: new TestTimeAugmentation(new GradCamMethod()));
        Asymmetry(plain.Heatmap).Should().BeGreaterThan(0.05);
        Asymmetry(smoothed.Map).Should().BeLessThan(1e-6);
    }

    [Test]
    public void The_catalogue_applies_eigen_smooth_and_refuses_it_where_it_does_not_apply()
    {
        var eigen = new MethodSettings().With(CommonOptions.EigenSmooth, true);
        MethodCatalog.Create("gradcam", eigen).Should().BeOfType<GradCamMethod>().Which.EigenSmooth.Should().BeTrue();
        MethodCatalog.Create("gradcam", eigen).Settings["eigen-smooth"].Should().Be("true");
        MethodCatalog.Create("gradcam").Settings.Should().NotContainKey("eigen-smooth");
        var both = (TestTimeAugmentation)MethodCatalog.Create("layercam", eigen.With(CommonOptions.AugSmooth, true));
        both.Method.Should().BeOfType<LayerCamMethod>().Which.EigenSmooth.Should().BeTrue();
        both.Settings.Should().Contain("eigen-smooth", "true").And.Contain("aug-smooth", "true");

        foreach (string name in new[] { "eigencam", "eigengradcam" })
            FluentActions.Invoking(() => MethodCatalog.Create(name, eigen)).Should().Throw<ScoreCamException>().WithMessage("*principal component already*");
        foreach (string name in new[] { "groupcam", "reciprocam" })
            FluentActions.Invoking(() => MethodCatalog.Create(name, eigen)).Should().Throw<ScoreCamException>().WithMessage("*not a sum of weighted activations*");
        FluentActions.Invoking(() => new EigenCamMethod { EigenSmooth = true }).Should().Throw<ScoreCamException>();
        MethodCatalog.Entries.Where(e => e.Kind == MethodKind.Cam).Should().OnlyContain(e => e.Options.Contains(CommonOptions.AugSmooth) && e.Options.Contains(CommonOptions.EigenSmooth));
        MethodCatalog.Entries.Where(e => e.Kind != MethodKind.Cam).Should().NotContain(e => e.Options.Contains(CommonOptions.AugSmooth));
    }

    [Test]
    public void The_command_line_takes_the_switches_alone_or_with_a_value()
    {
        using var folder = new Support.TempFolder();
        string json = folder.File("e.json");
        foreach (var (flags, expected) in new[] { (new[] { "--aug-smooth" }, "true"), (new[] { "--aug-smooth", "true", "--eigen-smooth" }, "true"), (new[] { "--aug-smooth", "false" }, null) })
        {
            var error = new StringWriter();
            ScoreCam.Onnx.Cli.CliApp.Run(new[] { "explain", "--method", "gradcam", "--json", json, "--quiet" }.Concat(flags).ToArray(), new StringWriter(), error)
                .Should().Be(0, error.ToString());
            var settings = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("settings");
            (settings.TryGetProperty("aug-smooth", out var v) ? v.GetString() : null).Should().Be(expected, string.Join(' ', flags));
        }
        var refused = new StringWriter();
        ScoreCam.Onnx.Cli.CliApp.Run(new[] { "explain", "--method", "gradcam", "--aug-smooth", "yes please", "--json", json, "--quiet" }, new StringWriter(), refused)
            .Should().NotBe(0);
        refused.ToString().Should().Contain("--aug-smooth must be true or false");
    }
}
