using ScoreCam.Onnx.Output;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>explain on a detector: the detections listed, one picture per detection explained, the choice flags checked.</summary>
public class DetectorCliTests
{
    private static readonly string Model = Repository.Path("onnx-models", "detection-test", "random-yolov8.onnx");
    private static readonly string Tensor = Repository.Path("onnx-models", "detection-test", "random-yolov8.input.npy");
    private const string Layer = "/p3/p3.1/Relu_output_0";

    [Test]
    public void Every_detection_above_the_confidence_gets_its_own_picture_and_the_listing_matches_the_library()
    {
        using var folder = new TempFolder();
        string json = folder.File("all.json");
        var (code, output, error) = CliRunner.Run("explain", "--model", Model, "--tensor", Tensor, "--layer", Layer, "--method", "gradcam",
            "--confidence", "0.6", "--out", folder.File("x.png"), "--json", json, "--quiet");
        code.Should().Be(0, error);
        using var explainer = new CamExplainer(Onnx.Models.ModelPreparer.Prepare(Model, new Onnx.Models.ModelPreparationOptions { Layer = Layer }));
        var found = Onnx.Detectors.DetectionHead.For(explainer.Model).Detect(explainer.Embed(new Onnx.Core.ImageTensor(
            Onnx.Imaging.NpyFile.Read(Tensor).Data, 3, 64, 64)), 0.6f, 0.7f);
        found.Should().NotBeEmpty();
        output.Should().Contain($"detections: {found.Count} at confidence 0.6 or more (YoloV8, 80 proposals, 3 classes)");
        for (int i = 0; i < found.Count; i++)
        {
            output.Should().Contain($"d{i}: class {found[i].ClassIndex} at {found[i].Box}");
            File.Exists(folder.File($"x-d{i}.png")).Should().BeTrue();
        }
        File.ReadAllText(json).Should().Contain($"class {found[0].ClassIndex} at {found[0].Box}");
    }

    [Test]
    public void A_chosen_detection_or_a_box_with_a_class_is_explained_alone()
    {
        using var folder = new TempFolder();
        var (code, output, error) = CliRunner.Run("explain", "--model", Model, "--tensor", Tensor, "--layer", Layer, "--method", "scorecam",
            "--detection", "1", "--out", folder.File("one.png"), "--quiet");
        code.Should().Be(0, error);
        Directory.GetFiles(folder.Path).Select(Path.GetFileName).Should().Equal("one-d1.png");

        (code, output, error) = CliRunner.Run("explain", "--model", Model, "--tensor", Tensor, "--layer", Layer, "--method", "rise", "--rise-masks", "50",
            "--box", "8,12,40,44", "--target", "1", "--out", folder.File("box.png"), "--quiet");
        code.Should().Be(0, error);
        output.Should().Contain("box: class 1 at 8,12,40,44 (score=");
        File.Exists(folder.File("box-box.png")).Should().BeTrue();
    }

    [TestCase("--box 8,12,40,44", "--box needs --target CLASS")]
    [TestCase("--target 1", "For a detector --target names the class of a --box")]
    [TestCase("--detection 99", "--detection 99:*detections at confidence 0.25 or more (0..")]
    [TestCase("--layout yolov9", "--layout must be yolov8, yolov5, end-to-end or boxes-scores-labels")]
    [TestCase("--detection-score best", "--detection-score must be d-rise or box-score")]
    [TestCase("--box 8,12,40,44 --target 7", "Class 7 is out of range: the detector scores 3 classes")]
    [TestCase("--versus", "The model is a detector: --versus compares two classes' probabilities*explain both from one set of passes (--detection A B)")]
    public void Bad_choices_are_refused_with_what_to_do(string flags, string message)
    {
        using var folder = new TempFolder();
        var (code, _, error) = CliRunner.Run(new[] { "explain", "--model", Model, "--tensor", Tensor, "--layer", Layer, "--method", "gradcam", "--quiet",
            "--out", folder.File("x.png") }.Concat(flags.Split(' ')).ToArray());
        code.Should().NotBe(0);
        error.Should().Match($"*{message}*");
    }

    [Test]
    public void A_run_over_several_methods_writes_one_picture_per_method_and_detection()
    {
        using var folder = new TempFolder();
        var (code, output, error) = CliRunner.Run("explain", "--model", Model, "--tensor", Tensor, "--layer", Layer, "--method", "gradcam,scorecam",
            "--detection", "0", "2", "--out-dir", folder.Path, "--quiet");
        code.Should().Be(0, error);
        foreach (string m in new[] { "gradcam", "scorecam" })
            foreach (string d in new[] { "d0", "d2" })
                File.Exists(folder.File($"random-yolov8.input-{m}-{d}.png")).Should().BeTrue($"{m} {d}");
        File.ReadAllText(folder.File(ExplainCommandResults)).Should().Contain("\"method\": \"scorecam\"");
    }

    private const string ExplainCommandResults = "results.json";

    [Test]
    public void Report_has_one_entry_per_detection_and_bench_times_the_most_confident_ones()
    {
        using var folder = new TempFolder();
        string picture = Repository.Path("onnx-models", "eval", "two-classes", "0001.png"), html = folder.File("r.html");
        var (code, output, error) = CliRunner.Run("report", "--model", Model, "--layer", Layer, "--image", picture, "--method", "gradcam",
            "--detection", "0", "1", "--confidence", "0.5", "--out", html, "--quiet");
        code.Should().Be(0, error);
        output.Should().Contain("2 pictures");
        string page = File.ReadAllText(html);
        page.Should().Contain("0001.png d0").And.Contain("0001.png d1");

        (code, output, error) = CliRunner.Run("bench", "--model", Model, "--layer", Layer, "--image", picture, "--method", "gradcam",
            "--targets", "1,3", "--confidence", "0.5", "--runs", "1");
        code.Should().Be(0, error);
        output.Split('\n').Count(l => l.StartsWith("gradcam ")).Should().Be(2, output);

        (code, _, error) = CliRunner.Run("bench", "--model", Model, "--layer", Layer, "--image", picture, "--method", "gradcam", "--targets", "500", "--runs", "1");
        code.Should().NotBe(0);
        error.Should().Contain("--targets 500: the picture has");
    }
}
