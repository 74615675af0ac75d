using System.Globalization;
using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static ScoreCam.Onnx.Tests.Support.CliRunner;

namespace ScoreCam.Onnx.Tests.Experiments;

/// <summary>The robustness, weight-stability and convergence experiments (library and `scorecam experiment`).</summary>
public class SweepTests
{
    private TempFolder _folder = null!;
    private string _model = null!;

    /// <summary>
    /// An annotated set for the coloured-squares model: grey 32×32 pictures, each with a red square (class 0, its box)
    /// and a dimmer green one.
    /// </summary>
    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        Directory.CreateDirectory(_folder.File("set"));
        var images = new List<string>();
        foreach (var (file, rx, ry, gx, gy) in new[] { ("a.png", 4, 4, 20, 16), ("b.png", 16, 12, 2, 22) })
        {
            using var picture = new Image<Rgb24>(TestModels.Size, TestModels.Size, new Rgb24(70, 80, 90));
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                {
                    picture[rx + x, ry + y] = new Rgb24(250, 40, 30);
                    picture[gx + x, gy + y] = new Rgb24(30, 160, 40);
                }
            picture.SaveAsPng(_folder.File(Path.Combine("set", file)));
            images.Add($"{{\"file\":\"{file}\",\"items\":[{{\"class\":0,\"label\":\"red\",\"box\":[{rx},{ry},{rx + 8},{ry + 8}]}}]}}");
        }
        File.WriteAllText(_folder.File(Path.Combine("set", AnnotatedSet.FileName)), $"{{\"images\":[{string.Join(',', images)}]}}");
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private CamExplainer Explainer() => new(ModelPreparer.Prepare(_model), new ExplainerOptions
    {
        Preprocess = new ScoreCam.Onnx.Imaging.PreprocessOptions { Width = TestModels.Size, Height = TestModels.Size },
    });

    [Test]
    public void The_peak_shift_is_the_distance_between_the_maps_maxima()
    {
        var clean = new SaliencyMap(5, 4, new float[20]);
        var attacked = new SaliencyMap(5, 4, new float[20]);
        clean.Values[1 * 5 + 1] = 1f;
        attacked.Values[3 * 5 + 4] = 0.5f;
        attacked.Values[0] = 0.2f;
        FgsmSweep.PeakShift(clean, attacked).Should().BeApproximately(Math.Sqrt(3 * 3 + 2 * 2), 1e-12);
        FgsmSweep.PeakShift(clean, clean).Should().Be(0);
    }

    [Test]
    public void Heat_outside_the_box_is_the_mean_over_the_other_pixels()
    {
        var map = new SaliencyMap(4, 4, Enumerable.Range(0, 16).Select(i => i / 15f).ToArray());
        var box = new BoundingBox(1, 1, 3, 3); // pixels 5, 6, 9, 10
        double expected = new[] { 0, 1, 2, 3, 4, 7, 8, 11, 12, 13, 14, 15 }.Average(i => i / 15.0);
        HeatOutsideBox.Mean(map, new[] { box }).Should().BeApproximately(expected, 1e-6);
        HeatOutsideBox.Mean(map, new[] { new BoundingBox(0, 0, 4, 4) }).Should().Be(0);
    }

    private static SweepPoint Point(string file, float epsilon, float[] weights, float[] clean)
    {
        var map = new SaliencyMap(1, 1, new[] { 1f });
        var e = new Explanation("m", new TargetInfo("class 0", 0, null, 0), new Prediction(0, "class 0", 1), map, map, weights,
            new TargetLayer("l", null, null, weights.Length, 1, 1), 1, 0, TimeSpan.Zero, TimeSpan.Zero);
        var item = new AnnotatedInput(new AnnotatedImage(file, Array.Empty<AnnotatedItem>()), new ImageTensor(new float[3], 3, 1, 1), 0, Array.Empty<BoundingBox>());
        return new SweepPoint(item, epsilon, "m", item.Input, 0, 1, e, 0, 0, clean);
    }

    [Test]
    public void Weight_stability_measures_by_hand()
    {
        float[] w0 = { 3, 4 }, w1 = { 3, -4 }, w2 = { 0, 4 };
        var rows = WeightStability.Summarize(new[] { Point("a", 0, w0, w0), Point("a", 0.1f, w1, w0), Point("a", 0.2f, w2, w0) });
        rows.Select(r => r.Epsilon).Should().Equal(0f, 0.1f, 0.2f);
        rows[0].RelativeChange.Should().Be(0);
        rows[0].Variance.Should().Be(0);
        rows[1].RelativeChange.Should().BeApproximately(8.0 / 5, 1e-12);        // ‖(0, −8)‖ / ‖(3, 4)‖
        rows[1].SignChanges.Should().Be(0.5);
        rows[1].Variance.Should().BeApproximately(16.0 / 25, 1e-12);            // channel 1: 4, −4
        rows[2].RelativeChange.Should().BeApproximately(3.0 / 5, 1e-12);
        rows[2].SignChanges.Should().Be(0.5, "3 → 0 leaves the positive sign");
        rows[2].Variance.Should().BeApproximately((2.0 + 384.0 / 27) / 25, 1e-12); // channel 0: 3, 3, 0; channel 1: 4, −4, 4
    }

    [Test]
    public void The_sweep_attacks_the_true_class_and_explains_it_on_the_adversarial_input()
    {
        using CamExplainer explainer = Explainer();
        AnnotatedSet set = AnnotatedSet.Read(_folder.File("set"));
        var methods = new IExplanationMethod[] { new GradCamMethod(), new ScoreCamMethod() };
        List<SweepPoint> points = FgsmSweep.Run(explainer, set, set.Images, new[] { 0f, 0.05f }, methods);

        points.Should().HaveCount(2 * 2 * 2);
        foreach (SweepPoint p in points)
        {
            AnnotatedInput item = AnnotatedInput.Load(explainer, set, p.Item.Image);
            ImageTensor expected = p.Epsilon == 0 ? item.Input : Fgsm.Attack(explainer, item.Input, p.Epsilon, ExplanationTarget.Class(0)).Input;
            p.Input.Data.Should().Equal(expected.Data);
            Explanation direct = explainer.Explain(expected, ExplanationTarget.Class(0), methods.Single(m => m.Name == p.Method));
            p.Explanation.Heatmap.Values.Should().Equal(direct.Heatmap.Values);
            p.EnergyInBox.Should().Be(EnergyPointingGame.Score(direct.Heatmap, item.Boxes));
            float[] probabilities = explainer.Probabilities(expected);
            p.TrueClassProbability.Should().BeApproximately(probabilities[0], 1e-6f);
            p.Predicted.Should().Be(Array.IndexOf(probabilities, probabilities.Max()));
            Explanation clean = points.Single(q => q.Item.Image == p.Item.Image && q.Method == p.Method && q.Epsilon == 0).Explanation;
            p.PeakShift.Should().Be(FgsmSweep.PeakShift(clean.Heatmap, p.Explanation.Heatmap));
        }
        points.Where(p => p.Epsilon > 0).Should().OnlyContain(p => p.TrueClassProbability < points.Single(q => q.Item.Image == p.Item.Image && q.Method == p.Method && q.Epsilon == 0).TrueClassProbability,
            "the attack lowers the true class");

        var stability = WeightStability.Summarize(points);
        // Global average pooling then a linear layer: Grad-CAM's weights are W[c] / (h·w) whatever the input.
        stability.Single(r => r.Method == "gradcam" && r.Epsilon > 0).RelativeChange.Should().BeLessThan(1e-6);
        stability.Single(r => r.Method == "scorecam" && r.Epsilon > 0).RelativeChange.Should().BeGreaterThan(1e-3);
        var robustness = RobustnessSweep.Summarize(points);
        robustness.Should().HaveCount(4);
        robustness.Single(r => r.Method == "scorecam" && r.Epsilon > 0).EnergyInBox.Should().BeApproximately(
            points.Where(p => p.Method == "scorecam" && p.Epsilon > 0).Average(p => p.EnergyInBox), 1e-12);

        FluentActions.Invoking(() => FgsmSweep.Run(explainer, set, set.Images, new[] { 0.05f }, methods)).Should().Throw<ArgumentException>().WithMessage("*first ε must be 0*");
    }

    [Test]
    public void Convergence_of_a_model_against_itself_gives_equal_numbers()
    {
        using CamExplainer a = Explainer(), b = Explainer();
        AnnotatedSet set = AnnotatedSet.Read(_folder.File("set"));
        var points = Convergence.Compare(a, b, set, set.Images, new ScoreCamMethod());
        points.Should().HaveCount(2);
        foreach (ConvergencePoint p in points)
        {
            (p.EarlyEnergy, p.EarlyOutside).Should().Be((p.FinalEnergy, p.FinalOutside));
            p.FinalEnergy.Should().Be(EnergyPointingGame.Score(p.Final.Heatmap, p.Item.Boxes));
            p.FinalOutside.Should().Be(HeatOutsideBox.Mean(p.Final.Heatmap, p.Item.Boxes));
            p.FinalEnergy.Should().BeGreaterThan(0.5, "the red square is class 0's evidence");
        }
    }

    [Test]
    public void The_experiment_command_writes_tables_and_figures()
    {
        string set = _folder.File("set"), outDir = _folder.File("out");
        string[] common = { "--model", _model, "--set", set, "--out-dir", outDir, "--quiet" };
        var (code, output, error) = Run(["experiment", "robustness", .. common, "--epsilons", "0,8/255", "--method", "gradcam,scorecam"]);
        (code, error).Should().Be((0, ""));
        output.Should().Contain("| 8/255 |");
        File.ReadAllLines(Path.Combine(outDir, "robustness.csv")).Should().HaveCount(1 + 2 * 2);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "robustness.json"))))
        {
            json.RootElement.GetProperty("rows").GetArrayLength().Should().Be(4);
            json.RootElement.GetProperty("points").GetArrayLength().Should().Be(2 * 2 * 2);
        }
        Image.Identify(Path.Combine(outDir, "robustness.png")).Height.Should().BeGreaterThan(0);
        string[] robustness = SvgTexts(Path.Combine(outDir, "robustness.svg"));
        robustness.Should().Contain(t => t.StartsWith("Explanations of the true class under FGSM")).And.Contain(["clean", "ε = 8/255", "gradcam, clean", "scorecam, ε = 8/255", "heat", "1", "0"]);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "robustness.json"))))
            foreach (JsonElement point in json.RootElement.GetProperty("points").EnumerateArray().Where(p => p.GetProperty("image").GetString() == "a.png"))
                robustness.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"EPG {point.GetProperty("energyInBox").GetDouble():0.000}"),
                    "each overlay is captioned with its energy-based pointing game");
        File.ReadAllText(Path.Combine(outDir, "robustness.md")).Should().Contain("![robustness](robustness.svg)");

        // An option of a method not in the sweep is allowed, and the output says that it reached none.
        (code, output, error) = Run(["experiment", "stability", .. common, "--epsilons", "0,0.01,0.02", "--rise-masks", "10"]);
        (code, error).Should().Be((0, ""));
        output.Should().Contain("--rise-masks reached none of the methods (gradcam, gradcam++ and scorecam do not take it; it is an option of rise).");
        File.ReadAllText(Path.Combine(outDir, "stability.md")).Should().Contain("gradcam++ relative change");
        File.Exists(Path.Combine(outDir, "stability.png")).Should().BeTrue();
        string[] stability = SvgTexts(Path.Combine(outDir, "stability.svg"));
        stability.Should().Contain(["gradcam", "gradcam++", "scorecam", "0", "0.01", "0.02", "FGSM step ε (picture units, 0 to 1)", "relative change ‖w(ε) − w(0)‖ / ‖w(0)‖"],
            "the plot has its legend, its x ticks at the steps and its axis titles");
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "stability.json"))))
            foreach (JsonElement row in json.RootElement.GetProperty("rows").EnumerateArray())
                stability.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"{row.GetProperty("relativeChange").GetDouble():0.000}"), "each point shows its value");

        (code, _, error) = Run(["experiment", "convergence", .. common, "--early", _model]);
        (code, error).Should().Be((0, ""));
        File.ReadAllLines(Path.Combine(outDir, "convergence.csv")).Should().HaveCount(1 + 2);
        SvgTexts(Path.Combine(outDir, "convergence.svg")).Should().Contain(["picture", "early checkpoint", "final model", "a.png"])
            .And.Contain(t => t.StartsWith("predicted ") && t.Contains(", EPG "));
        Directory.GetFiles(outDir).Should().NotContain(f => f.EndsWith(".tmp"), "every file is written atomically");
    }

    [TestCase("robustness", "--epsilons", "2/255,4/255", "must start with 0")]
    [TestCase("robustness", "--epsilons", "0,x", "'x' is not a step")]
    [TestCase("robustness", "--epsilons", "0,2", "'2' is not a step")]
    [TestCase("stability", "--method", "gradcam,rise", "rise has no channel weights")]
    public void Bad_experiment_options_are_usage_errors(string experiment, string option, string value, string message)
    {
        var (code, _, error) = Run("experiment", experiment, "--model", _model, "--set", _folder.File("set"), "--out-dir", _folder.File("out"), option, value);
        code.Should().Be(2);
        error.Should().Contain(message);
    }

    /// <summary>The text of every &lt;text&gt; element of an SVG file (which must be well-formed XML).</summary>
    private static string[] SvgTexts(string path) =>
        System.Xml.Linq.XDocument.Load(path).Descendants(System.Xml.Linq.XName.Get("text", "http://www.w3.org/2000/svg")).Select(t => t.Value).ToArray();
}
