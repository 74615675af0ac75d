using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>
/// A method option reaches a method that declares it or is refused: the commands that explain with the methods chosen
/// (explain, report, bench, submit, experiment convergence) refuse an option none of them declares with one line naming
/// the option, the chosen methods and the methods that take it; with several methods it goes to those that declare it.
/// </summary>
public class MethodOptionReachTests
{
    private TempFolder _folder = null!;
    private string _model = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private const string RiseMasksNotOfGradCam = "--rise-masks is not an option of gradcam; it is an option of rise.";

    public static IEnumerable<TestCaseData> Refusals()
    {
        TestCaseData Case(string message, params string[] args) => new TestCaseData(args, message).SetArgDisplayNames(string.Join(' ', args));
        yield return Case(RiseMasksNotOfGradCam, "explain", "--method", "gradcam", "--rise-masks", "100");
        yield return Case("--aug-smooth is not an option of guided-scorecam; it is an option of scorecam, gradcam, gradcam++, ",
            "explain", "--method", "guided-scorecam", "--aug-smooth");
        yield return Case("--sscam-samples is not an option of gradcam or rise; it is an option of sscam.", "explain", "--method", "gradcam,rise", "--sscam-samples", "3");
        yield return Case("--channels is not an option of gradcam or rise; it is an option of scorecam and guided-scorecam.", "explain", "--method", "grad-cam,rise", "--channels", "3");
        yield return Case(RiseMasksNotOfGradCam, "report", "--method", "gradcam", "--rise-masks", "100");
        yield return Case(RiseMasksNotOfGradCam, "bench", "--method", "gradcam", "--rise-masks", "100");
        yield return Case(RiseMasksNotOfGradCam, "submit", "--nats", "nats://127.0.0.1:1", "--image", "nosuch.png", "--method", "gradcam", "--rise-masks", "100");
        yield return Case(RiseMasksNotOfGradCam, "experiment", "convergence", "--set", "nosuch", "--early", "nosuch.onnx", "--method", "gradcam", "--rise-masks", "100");
    }

    [TestCaseSource(nameof(Refusals))]
    public void An_option_none_of_the_chosen_methods_declares_is_refused_naming_it_and_the_methods(string[] args, string message)
    {
        var (code, output, error) = CliRunner.Run([.. args, "--model", _model]);
        code.Should().Be(CliApp.UsageError, error);
        output.Should().BeEmpty();
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("error: " + message);
    }

    [Test]
    public void With_several_methods_an_option_goes_to_those_that_declare_it()
    {
        string picture = _folder.File("squares.png");
        using (var image = new Image<Rgb24>(32, 32, new Rgb24(10, 10, 10)))
        {
            for (int y = 4; y < 14; y++) for (int x = 4; x < 14; x++) image[x, y] = new Rgb24(230, 20, 20);
            image.SaveAsPng(picture);
        }
        string outDir = _folder.File("out");
        var (code, _, error) = CliRunner.Run("explain", "--model", _model, "--image", picture, "--method", "gradcam,rise", "--rise-masks", "30", "--out-dir", outDir,
            "--overlay-size", "0", "--quiet");
        (code, error).Should().Be((0, ""));
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var explanations = results.RootElement.GetProperty("explanations").EnumerateArray().ToDictionary(e => e.GetProperty("method").GetString()!);
        explanations["rise"].GetProperty("settings").GetProperty("rise-masks").GetString().Should().Be("30");
        explanations["rise"].GetProperty("forwardPasses").GetInt32().Should().Be(31, "the unmasked pass and 30 masks");
        explanations["gradcam"].GetProperty("settings").TryGetProperty("rise-masks", out _).Should().BeFalse();
    }
}
