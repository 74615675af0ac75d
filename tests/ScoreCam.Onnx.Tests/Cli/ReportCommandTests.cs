using System.Globalization;
using System.Text.Json.Nodes;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>`scorecam report` end to end: the real command writes the page, headless chromium reads it back.</summary>
public class ReportCommandTests
{
    private static readonly string[] Labels = { "red", "green", "blue" };

    [Test]
    public async Task Report_shows_every_picture_and_method_with_the_models_top_predictions_and_lists_a_broken_picture()
    {
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("squares.onnx"));
        File.WriteAllLines(folder.File("labels.txt"), Labels);
        Directory.CreateDirectory(folder.File("set"));
        Squares(folder.File("set/a.png"), red: 0.9f, green: 0.4f);
        Squares(folder.File("set/b.png"), red: 0.2f, green: 0.8f);
        File.WriteAllText(folder.File("set/broken.png"), "not a picture");
        string html = folder.File("out/report.html");

        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(new[] { "report", "--model", model, "--image", folder.File("set"), "--method", "scorecam,gradcam", "--labels", folder.File("labels.txt"),
            "--mean", "0,0,0", "--std", "1,1,1", "--overlay-size", "96", "--out", html, "--quiet" }, output, error);
        code.Should().Be(CliApp.InputError, "one picture could not be read");
        error.ToString().Should().Contain("broken.png");
        output.ToString().Should().Contain("2 pictures, 2 methods, 1 picture failed");

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // a guard against a hung browser, not a timing
        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(timeout.Token);
        await browser.OpenAsync(html);
        JsonNode page = (await browser.EvaluateAsync(ReportPageScript.Read))!;

        // 64x64 pictures scaled up to 96: the input and one overlay per method, each with its colour bar.
        int overlay = 96 + 4 + ColorBar.WidthFor(96);
        page["widths"]!.AsArray().Select(w => (int)w!).Should().Equal(96, overlay, overlay, 96, overlay, overlay);
        page["failures"]!.AsArray().Should().ContainSingle().Which!.ToString().Should().Contain("broken.png");

        using var explainer = new CamExplainer(ModelPreparer.Prepare(model), new ExplainerOptions
        {
            Labels = Labels,
            Preprocess = new PreprocessOptions { Width = TestModels.Size, Height = TestModels.Size, Mean = new[] { 0f, 0f, 0f }, Std = new[] { 1f, 1f, 1f } },
        });
        JsonArray entries = page["entries"]!.AsArray();
        entries.Select(e => (string)e!["name"]!).Should().Equal(folder.File("set/a.png"), folder.File("set/b.png"));
        foreach (JsonNode entry in entries.Select(e => e!))
        {
            entry["captions"]!.AsArray().Select(c => (string)c!).Should().Equal("input", "scorecam", "gradcam");
            using Image<Rgb24> picture = explainer.LoadImage((string)entry["name"]!);
            float[] p = explainer.Probabilities(explainer.Preprocess(picture));
            int[] order = Enumerable.Range(0, 3).OrderByDescending(i => p[i]).ToArray();
            JsonArray rows = entry["predictions"]!.AsArray();
            rows.Select(r => (string)r![0]!).Should().Equal(order.Select(i => $"{Labels[i]} [{i}]"));
            rows.Select(r => double.Parse((string)r![1]!, CultureInfo.InvariantCulture)).Should().Equal(order.Select(i => (double)p[i]), (a, b) => Math.Abs(a - b) <= 5e-5);
            ((string)entry["target"]![0]!).Should().Be($"{Labels[order[0]]} [{order[0]}]", "the default target is the top prediction");
        }
    }

    [Test]
    public async Task Report_of_an_evaluated_set_shows_the_boxes_each_pictures_metrics_and_the_summary_evaluate_wrote()
    {
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("squares.onnx"));
        File.WriteAllLines(folder.File("labels.txt"), Labels);
        string set = folder.File("set");
        Directory.CreateDirectory(set);
        Squares(Path.Combine(set, "a.png"), red: 0.9f, green: 0.4f);
        Squares(Path.Combine(set, "b.png"), red: 0.2f, green: 0.8f);
        File.WriteAllText(Path.Combine(set, "annotations.json"), """
            {"images": [
              {"file": "a.png", "items": [{"class": 0, "label": "red", "box": [8, 8, 24, 24]}]},
              {"file": "b.png", "items": [{"class": 1, "label": "green", "box": [40, 40, 56, 56]}]}]}
            """);
        string[] common = { "--model", model, "--labels", folder.File("labels.txt"), "--mean", "0,0,0", "--std", "1,1,1", "--quiet" };
        string eval = folder.File("eval"), html = folder.File("report.html");
        CliApp.Run(new[] { "evaluate", "--set", set, "--method", "scorecam,gradcam", "--metrics", "energy_pointing_game,pointing_game", "--out-dir", eval }.Concat(common).ToArray(),
            new StringWriter(), new StringWriter()).Should().Be(CliApp.Ok);
        var error = new StringWriter();
        CliApp.Run(new[] { "report", "--set", set, "--evaluation", eval, "--method", "scorecam", "--overlay-size", "0", "--out", html }.Concat(common).ToArray(),
            new StringWriter(), error).Should().Be(CliApp.Ok, error.ToString());

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // a guard against a hung browser, not a timing
        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(timeout.Token);
        await browser.OpenAsync(html);
        JsonNode page = (await browser.EvaluateAsync(ReportPageScript.Read))!;

        var rows = ScoreCam.Onnx.Metrics.EvaluationCsv.Read(Path.Combine(eval, "results.csv")).Values.ToList();
        JsonArray entries = page["entries"]!.AsArray();
        entries.Select(e => (string)e!["name"]!).Should().Equal("a.png", "b.png");
        foreach (var (entry, image, classIndex) in new[] { (entries[0]!, "a.png", 0), (entries[1]!, "b.png", 1) })
        {
            ((string)entry["target"]![0]!).Should().Be($"{Labels[classIndex]} [{classIndex}]", "the annotated class is explained");
            ((int)entry["boxes"]!).Should().Be(2, "the box is drawn over the input and the overlay");
            string[] expected = new[] { "scorecam", "gradcam" }.SelectMany(m =>
            {
                var row = rows.Single(r => r.Image == image && r.Method == m && r.Class == classIndex);
                return new[] { m }.Concat(new[] { "energy_pointing_game", "pointing_game" }.Select(x => row.Metrics[x].ToString("0.0000", CultureInfo.InvariantCulture)));
            }).ToArray();
            entry["metrics"]!.AsArray().SelectMany(r => r!.AsArray().Select(c => (string)c!)).Should().Equal(expected);
        }
        // the box [8, 24) of a 64-pixel picture, as fractions of the picture the browser shows
        entries[0]!["firstBox"]!.AsArray().Select(v => (double)v!).Should().Equal(new[] { 0.125, 0.125, 0.25, 0.25 }, (a, b) => Math.Abs(a - b) < 0.02);

        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(eval, "summary.json")));
        string[][] expectedSummary = summary.RootElement.EnumerateObject().Select(m => new[] { m.Name }.Concat(m.Value.EnumerateObject().Select(x =>
            string.Create(CultureInfo.InvariantCulture, $"{x.Value.GetProperty("mean").GetDouble():0.0000} ± {x.Value.GetProperty("ci95").GetDouble():0.0000}"))).ToArray()).ToArray();
        page["summary"]!.AsArray().Select(r => r!.AsArray().Select(c => (string)c!).ToArray()).Should().BeEquivalentTo(expectedSummary, o => o.WithStrictOrdering());
    }

    [Test]
    public async Task Report_versus_a_class_shows_each_methods_counterfactual_map_and_the_check_explain_versus_writes()
    {
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("squares.onnx"));
        File.WriteAllLines(folder.File("labels.txt"), Labels);
        string picture = folder.File("a.png"), html = folder.File("report.html");
        Squares(picture, red: 0.9f, green: 0.4f);
        string[] common = { "--model", model, "--image", picture, "--labels", folder.File("labels.txt"), "--mean", "0,0,0", "--std", "1,1,1", "--quiet" };
        var error = new StringWriter();
        CliApp.Run(new[] { "report", "--method", "scorecam,gradcam", "--versus", "green", "--overlay-size", "0", "--out", html }.Concat(common).ToArray(),
            new StringWriter(), error).Should().Be(CliApp.Ok, error.ToString());

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // a guard against a hung browser, not a timing
        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(timeout.Token);
        await browser.OpenAsync(html);
        JsonNode page = (await browser.EvaluateAsync(ReportPageScript.Read))!;
        page["widths"]!.AsArray().Select(w => (int)w!).Should().Equal(new[] { 64 }.Concat(Enumerable.Repeat(64 + 4 + ColorBar.WidthFor(64), 4)),
            "the input, two overlays and two counterfactual maps (with their colour bars) decoded");
        JsonNode entry = page["entries"]!.AsArray().Single()!;
        entry["captions"]!.AsArray().Select(c => (string)c!).Should().Equal("input", "scorecam", "gradcam",
            "scorecam: versus green [1] (eq. 7)", "gradcam: versus green [1] (eq. 7)");

        // The same numbers as `explain --versus` writes for each method (an independent run of the command).
        foreach (var (row, method) in entry["counterfactual"]!.AsArray().Zip(new[] { "scorecam", "gradcam" }))
        {
            string json = folder.File($"{method}.json");
            CliApp.Run(new[] { "explain", "--method", method, "--versus", "green", "--json", json }.Concat(common).ToArray(), new StringWriter(), new StringWriter())
                .Should().Be(CliApp.Ok);
            JsonNode written = JsonNode.Parse(File.ReadAllText(json))!["counterfactual"]!;
            ((int)written["reference"]!["index"]!).Should().Be(1);
            double[] expected = { (double)written["input"]!["target"]!, (double)written["input"]!["reference"]!, (double)written["masked"]!["target"]!, (double)written["masked"]!["reference"]! };
            ((string)row![0]!).Should().Be(method);
            row.AsArray().Skip(1).Select(c => double.Parse((string)c!, CultureInfo.InvariantCulture)).Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 5e-5, $"{method}'s check");
        }
        entry["counterfactual"]!.AsArray().Should().HaveCount(2);
    }

    [Test]
    public void Report_versus_the_target_class_lists_the_picture_as_not_explained()
    {
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("squares.onnx"));
        string picture = folder.File("a.png");
        Squares(picture, red: 0.9f, green: 0.4f);
        var error = new StringWriter();
        CliApp.Run(new[] { "report", "--model", model, "--image", picture, "--method", "gradcam", "--target", "0", "--versus", "0", "--mean", "0,0,0", "--std", "1,1,1",
            "--out", folder.File("report.html"), "--quiet" }, new StringWriter(), error).Should().Be(CliApp.InputError);
        error.ToString().Should().Contain("same class");
        File.ReadAllText(folder.File("report.html")).Should().Contain("Not explained");
    }

    /// <summary>A 64x64 picture with a red square (top left) and a green one (bottom right) of the given intensities.</summary>
    private static void Squares(string path, float red, float green)
    {
        using var image = new Image<Rgb24>(64, 64);
        for (int y = 8; y < 24; y++) for (int x = 8; x < 24; x++) image[x, y] = new Rgb24((byte)(255 * red), 0, 0);
        for (int y = 40; y < 56; y++) for (int x = 40; x < 56; x++) image[x, y] = new Rgb24(0, (byte)(255 * green), 0);
        image.SaveAsPng(path);
    }

}
