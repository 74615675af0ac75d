using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Metrics;

/// <summary>`scorecam evaluate` in process on the coloured-squares model and a small annotated set.</summary>
public class EvaluateCommandTests
{
    private TempFolder _folder = null!;
    private string _model = null!, _set = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        _set = Path.Combine(_folder.Path, "set");
        Directory.CreateDirectory(_set);
        // 64×64 pictures (stretched to 32×32): a red square (class 0), a green one (class 1), and one whose
        // annotation says red over a green square (misclassified).
        Square("a.png", 8, 8, new Rgb24(255, 0, 0));
        Square("b.png", 32, 24, new Rgb24(0, 255, 0));
        Square("c.png", 16, 40, new Rgb24(0, 255, 0));
        File.WriteAllText(Path.Combine(_set, "annotations.json"), """
            {"images":[
              {"file":"a.png","items":[{"class":0,"label":"red","box":[8,8,24,24]}]},
              {"file":"b.png","items":[{"class":1,"label":"green","box":[32,24,48,40]}]},
              {"file":"c.png","items":[{"class":0,"label":"red","box":[16,40,32,56]}]}
            ]}
            """);
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private void Square(string name, int x0, int y0, Rgb24 colour)
    {
        using var image = new Image<Rgb24>(64, 64);
        for (int y = y0; y < y0 + 16; y++) for (int x = x0; x < x0 + 16; x++) image[x, y] = colour;
        image.SaveAsPng(Path.Combine(_set, name));
    }

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>The command with fast defaults; a flag in <paramref name="more"/> replaces its default.</summary>
    private string[] Args(string outDir, params string[] more)
    {
        string[] defaults = { "--mean", "0,0,0", "--std", "1,1,1", "--rise-masks", "200", "--deletion-steps", "8", "--method", "scorecam,rise" };
        var args = new List<string> { "evaluate", "--model", _model, "--set", _set, "--out-dir", outDir };
        for (int i = 0; i < defaults.Length; i += 2)
            if (!more.Contains(defaults[i])) args.AddRange(new[] { defaults[i], defaults[i + 1] });
        return args.Concat(more).ToArray();
    }

    [Test]
    public void Writes_results_and_summaries_and_reports_misclassified_images_apart()
    {
        string outDir = _folder.File("eval");
        var (code, output, error) = Run(Args(outDir));
        code.Should().Be(0, error);
        output.Should().Contain("--rise-masks reached rise, not scorecam.");

        string[] csv = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        csv[0].Should().Be("image,method,class,label,predicted,correct,energy_pointing_game,pointing_game,average_drop,increase_in_confidence,deletion_auc,insertion_auc,energy_other_classes,energy_weakest_box,road_morf,road_lerf,seconds");
        csv.Should().HaveCount(1 + 3 * 2, "one row per image and method");
        csv.Where(l => l.StartsWith("c.png,")).Should().OnlyContain(l => l.Contains(",0,red,1,false,"));

        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        foreach (string method in new[] { "scorecam", "rise" })
        {
            JsonElement m = summary.RootElement.GetProperty(method);
            foreach (string metric in new[] { "energy_pointing_game", "pointing_game", "average_drop", "increase_in_confidence", "deletion_auc", "insertion_auc" })
            {
                m.GetProperty(metric).GetProperty("mean").ValueKind.Should().Be(JsonValueKind.Number, $"{method} {metric}");
                m.GetProperty(metric).GetProperty("ci95").ValueKind.Should().Be(JsonValueKind.Number);
                m.GetProperty(metric).GetProperty("count").GetInt32().Should().Be(2, "c.png is misclassified and left out of the means");
            }
        }
        // Score-CAM's map of the coloured squares lies on the square (an exact 4-pixel cell grid in 32×32 input).
        summary.RootElement.GetProperty("scorecam").GetProperty("pointing_game").GetProperty("mean").GetDouble().Should().Be(1);
        summary.RootElement.GetProperty("scorecam").GetProperty("energy_pointing_game").GetProperty("mean").GetDouble().Should().BeGreaterThan(0.5);

        string md = File.ReadAllText(Path.Combine(outDir, "summary.md"));
        md.Should().Contain("| scorecam | 2 |").And.Contain("| rise | 2 |").And.Contain("## Misclassified").And.Contain("| c.png | red [0] | 1 |");
        output.Should().Contain("| scorecam |");
    }

    [Test]
    public void Misclassified_images_get_the_maps_of_the_predicted_and_the_true_class_side_by_side()
    {
        string outDir = _folder.File("eval");
        Run(Args(outDir)).Code.Should().Be(0);

        using JsonDocument listed = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "misclassified.json")));
        JsonElement only = listed.RootElement.EnumerateArray().Should().ContainSingle().Subject;
        (only.GetProperty("image").GetString(), only.GetProperty("class").GetInt32(), only.GetProperty("predicted").GetInt32(), only.GetProperty("method").GetString())
            .Should().Be(("c.png", 0, 1, "scorecam"));
        string picture = only.GetProperty("picture").GetString()!;
        picture.Should().Be("misclassified/c-0.png");
        File.ReadAllText(Path.Combine(outDir, "summary.md")).Should().Contain($"| c.png | red [0] | 1 | [{picture}]({picture}) |");

        // The tiles are the overlays of Score-CAM's maps for class 1 (predicted) and class 0 (true), as the library draws them.
        using var explainer = CamExplainer.Open(_model, new ExplainerOptions
        {
            Preprocess = new ScoreCam.Onnx.Imaging.PreprocessOptions { Width = 32, Height = 32, Mean = new[] { 0f, 0f, 0f }, Std = new[] { 1f, 1f, 1f } },
        });
        using Image<Rgb24> source = explainer.LoadImage(Path.Combine(_set, "c.png"));
        var input = explainer.Preprocess(source);
        using Image<Rgb24> written = Image.Load<Rgb24>(Path.Combine(outDir, picture));
        int tile = 192, gap = 6;
        written.Width.Should().Be(3 * tile + 2 * gap);
        foreach (var (column, target) in new[] { (1, 1), (2, 0) })
        {
            var e = explainer.Explain(input, ScoreCam.Onnx.Methods.ExplanationTarget.Class(target), new ScoreCam.Onnx.Methods.ScoreCamMethod());
            using Image<Rgb24> expected = ScoreCam.Onnx.Imaging.HeatmapRenderer.Render(source, e.Heatmap, input.SourceRegion,
                new ScoreCam.Onnx.Imaging.OverlayOptions { MinShortSide = tile });
            for (int y = 0; y < tile; y += 7)
                for (int x = 0; x < tile; x += 7)
                    written[column * (tile + gap) + x, y].Should().Be(expected[x, y], $"class {target} at ({x}, {y})");
        }
    }

    [Test]
    public void A_second_run_resumes_from_the_results_of_the_first()
    {
        string outDir = _folder.File("eval");
        Run(Args(outDir, "--limit", "2")).Code.Should().Be(0);
        string first = File.ReadAllText(Path.Combine(outDir, "results.csv"));
        var (code, _, error) = Run(Args(outDir));
        code.Should().Be(0, error);
        string[] second = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        second.Should().HaveCount(7);
        foreach (string line in first.Split('\n').Where(l => l.Length > 0)) second.Should().Contain(line, "cached rows are kept as they were");

        var (changed, _, warning) = Run(Args(outDir, "--rise-masks", "100"));
        changed.Should().Be(0, warning);
        warning.Should().Contain("other settings");
        File.ReadAllLines(Path.Combine(outDir, "results.csv")).Where(l => l.Contains(",rise,")).Should().NotIntersectWith(second, "RISE with other masks is recomputed");
    }

    [TestCase("--samples", "3")]
    [TestCase("--noise", "0.3")]
    [TestCase("--ig-steps", "3")]
    [TestCase("--baseline", "black")]
    [TestCase("--mask-iterations", "3")]
    [TestCase("--reduction", "sum")]
    public void A_pixel_space_method_option_changed_since_the_first_run_recomputes_the_rows(string option, string value)
    {
        string outDir = _folder.File("eval");
        var pixel = new List<string> { "--method", "smoothgrad,integrated-gradients,mask", "--samples", "2", "--ig-steps", "2", "--mask-iterations", "2", "--limit", "1" };
        Run(Args(outDir, pixel.ToArray())).Code.Should().Be(0);
        int at = pixel.IndexOf(option);
        if (at >= 0) pixel[at + 1] = value;
        else pixel.AddRange(new[] { option, value });
        var (code, _, warning) = Run(Args(outDir, pixel.ToArray()));
        code.Should().Be(0, warning);
        warning.Should().Contain("other settings", $"rows made without {option} {value} no longer hold");
    }

    [Test]
    public void An_option_of_a_method_not_evaluated_keeps_the_rows()
    {
        string outDir = _folder.File("eval");
        Run(Args(outDir, "--method", "gradcam", "--limit", "1")).Code.Should().Be(0);
        var (code, output, warning) = Run(Args(outDir, "--method", "gradcam", "--limit", "1", "--samples", "7"));
        code.Should().Be(0, warning);
        warning.Should().NotContain("other settings", "SmoothGrad's samples do not change Grad-CAM's rows");
        // Allowed, but not silently: the output and the summary say where the option went.
        const string reach = "--samples reached none of the methods (gradcam does not take it; it is an option of smoothgrad).";
        output.Should().Contain(reach);
        File.ReadAllText(Path.Combine(outDir, "summary.md")).Should().Contain("## Method options").And.Contain("- " + reach);
    }

    [Test]
    public void On_a_two_class_canvas_the_energy_in_the_other_class_box_is_measured_on_request()
    {
        using (var image = new Image<Rgb24>(64, 64))
        {
            for (int y = 8; y < 24; y++) for (int x = 8; x < 24; x++) image[x, y] = new Rgb24(255, 0, 0);
            for (int y = 40; y < 56; y++) for (int x = 32; x < 48; x++) image[x, y] = new Rgb24(0, 255, 0);
            image.SaveAsPng(Path.Combine(_set, "two.png"));
        }
        File.WriteAllText(Path.Combine(_set, "annotations.json"), """
            {"images":[{"file":"two.png","items":[{"class":0,"label":"red","box":[8,8,24,24]},{"class":1,"label":"green","box":[32,40,48,56]}]}]}
            """);
        string outDir = _folder.File("two");
        var (code, _, error) = Run(Args(outDir, "--method", "scorecam"));
        code.Should().Be(0, error);
        string[] csv = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        csv.Should().HaveCount(3, "one row per class");
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        JsonElement m = summary.RootElement.GetProperty("scorecam");
        m.GetProperty("energy_pointing_game").GetProperty("mean").GetDouble().Should().BeGreaterThan(0.5);
        m.GetProperty("energy_other_classes").GetProperty("mean").GetDouble().Should().BeLessThan(0.1);
        m.TryGetProperty("deletion_auc", out _).Should().BeTrue("the paper's metrics are always in the default");
        m.TryGetProperty("energy_weakest_box", out _).Should().BeFalse("no class has two objects in this set");

        string only = _folder.File("only");
        Run(Args(only, "--method", "scorecam", "--metrics", "energy_pointing_game")).Code.Should().Be(0);
        using JsonDocument one = JsonDocument.Parse(File.ReadAllText(Path.Combine(only, "summary.json")));
        one.RootElement.GetProperty("scorecam").EnumerateObject().Select(p => p.Name).Should().Equal("energy_pointing_game");
    }

    [Test]
    public void Bad_flags_are_usage_errors()
    {
        Run(Args(_folder.File("e"), "--metrics", "accuracy")).Code.Should().Be(CliApp.UsageError);
        Run(Args(_folder.File("e"), "--method", "nosuch")).Code.Should().Be(CliApp.UsageError);
        Run("evaluate", "--model", _model, "--set", _folder.File("missing")).Code.Should().Be(CliApp.InputError);
    }
}
