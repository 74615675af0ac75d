using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>`scorecam explain` over several pictures and methods, through the real command.</summary>
public class ExplainRunTests
{
    private TempFolder _folder = null!;
    private string _model = null!;
    private string[] _preprocess = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        _preprocess = new[] { "--mean", "0,0,0", "--std", "1,1,1" };
        Directory.CreateDirectory(_folder.File("photos/more"));
        Square(_folder.File("photos/a.png"), 4, new Rgb24(255, 0, 0));
        Square(_folder.File("photos/b.png"), 16, new Rgb24(0, 255, 0));
        Square(_folder.File("photos/more/c.png"), 10, new Rgb24(0, 0, 255));
        File.WriteAllText(_folder.File("photos/notes.txt"), "not a picture");
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private static void Square(string path, int at, Rgb24 colour)
    {
        using var image = new Image<Rgb24>(32, 32);
        for (int y = at; y < at + 10; y++) for (int x = at; x < at + 10; x++) image[x, y] = colour;
        image.SaveAsPng(path);
    }

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(new[] { "explain", "--model", _model }.Concat(_preprocess).Concat(args).ToArray(), output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static float[] Values(JsonElement explanation) =>
        explanation.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Test]
    public void A_glob_and_two_methods_give_one_overlay_per_picture_and_method_and_one_results_json_equal_to_single_runs()
    {
        string outDir = _folder.File("out");
        var (code, output, error) = Run("--image", Path.Combine(_folder.Path, "photos", "*.png"), "--method", "scorecam,gradcam", "--out-dir", outDir);
        (code, error).Should().Be((0, ""));
        Directory.GetFiles(outDir).Select(Path.GetFileName).Should().BeEquivalentTo(
            "a-scorecam.png", "a-gradcam.png", "b-scorecam.png", "b-gradcam.png", "results.json");
        output.Should().Contain($"results: {Path.Combine(outDir, "results.json")} (4 explanations)");

        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        results.RootElement.GetProperty("failed").GetArrayLength().Should().Be(0);
        var entries = results.RootElement.GetProperty("explanations").EnumerateArray().ToList();
        entries.Select(e => (Path.GetFileName(e.GetProperty("image").GetString()), e.GetProperty("method").GetString(), e.GetProperty("overlay").GetString()))
            .Should().Equal(("a.png", "scorecam", "a-scorecam.png"), ("a.png", "gradcam", "a-gradcam.png"),
                ("b.png", "scorecam", "b-scorecam.png"), ("b.png", "gradcam", "b-gradcam.png"));
        foreach (JsonElement entry in new[] { entries[0], entries[3] })
        {
            // Each entry is what a single `explain --json` for that picture and method writes.
            string single = _folder.File($"single-{Guid.NewGuid():N}.json");
            Run("--image", entry.GetProperty("image").GetString()!, "--method", entry.GetProperty("method").GetString()!, "--json", single).Code.Should().Be(0);
            using var one = JsonDocument.Parse(File.ReadAllText(single));
            Values(entry).Should().Equal(Values(one.RootElement));
            entry.GetProperty("target").GetProperty("index").GetInt32().Should().Be(one.RootElement.GetProperty("target").GetProperty("index").GetInt32());
        }
        using var overlay = Image.Load<Rgb24>(Path.Combine(outDir, "b-gradcam.png"));
        (overlay.Height, overlay.Width).Should().Be((384, 3 * 384 + 3 * SideBySide.GapFor(384) + ColorBar.WidthFor(384)), "32x32 pictures are scaled up to the default overlay size, in the default panel");
    }

    [Test]
    public void Folders_repeated_images_shell_expanded_lists_and_double_star_name_the_same_pictures()
    {
        string[] Names(params string[] images)
        {
            string outDir = _folder.File($"out-{Guid.NewGuid():N}");
            var (code, _, error) = Run(new[] { "--image" }.Concat(images).Concat(new[] { "--out-dir", outDir }).ToArray());
            code.Should().Be(0, error);
            using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
            return results.RootElement.GetProperty("explanations").EnumerateArray()
                .Select(e => Path.GetRelativePath(_folder.Path, e.GetProperty("image").GetString()!).Replace('\\', '/')).ToArray();
        }

        Names(_folder.File("photos")).Should().Equal("photos/a.png", "photos/b.png");
        Names(_folder.File("photos/b.png"), _folder.File("photos/a.png")).Should().Equal("photos/b.png", "photos/a.png");
        Names(Path.Combine(_folder.Path, "photos", "**", "*.png")).Should().Equal("photos/a.png", "photos/b.png", "photos/more/c.png");
        Names(Path.Combine(_folder.Path, "photos", "?.png"), _folder.File("photos/a.png")).Should().Equal("photos/a.png", "photos/b.png");

        var output = new StringWriter();
        int code = CliApp.Run(new[] { "explain", "--model", _model, "--image", _folder.File("photos/a.png"), "--image", _folder.File("photos/more/c.png"),
            "--out-dir", _folder.File("repeated") }, output, new StringWriter());
        code.Should().Be(0);
        Directory.GetFiles(_folder.File("repeated"), "*.png").Select(Path.GetFileName).Should().BeEquivalentTo("a-scorecam.png", "c-scorecam.png");
    }

    [Test]
    public void A_picture_that_cannot_be_read_is_reported_and_skipped_and_the_exit_code_says_so()
    {
        byte[] png = File.ReadAllBytes(_folder.File("photos/a.png"));
        File.WriteAllBytes(_folder.File("photos/broken.png"), png[..(png.Length / 2)]);
        string outDir = _folder.File("out");
        var (code, _, error) = Run("--image", _folder.File("photos"), "--out-dir", outDir);

        code.Should().Be(CliApp.InputError);
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("error: ").And.Contain("broken.png").And.Contain("cannot be decoded");
        Directory.GetFiles(outDir).Select(Path.GetFileName).Should().BeEquivalentTo("a-scorecam.png", "b-scorecam.png", "results.json");
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        results.RootElement.GetProperty("explanations").GetArrayLength().Should().Be(2);
        JsonElement failed = results.RootElement.GetProperty("failed").EnumerateArray().Should().ContainSingle().Subject;
        failed.GetProperty("image").GetString().Should().EndWith("broken.png");
        failed.GetProperty("error").GetString().Should().Contain("cannot be decoded");
    }

    [Test]
    public void Refusals_are_one_line_and_write_nothing()
    {
        File.Copy(_folder.File("photos/a.png"), _folder.File("photos/more/a.png"));
        string outDir = _folder.File("out");
        var cases = new (string[] Args, int Code, string Message)[]
        {
            (new[] { "--image", Path.Combine(_folder.Path, "photos", "*.jpg"), "--out-dir", outDir }, CliApp.InputError, "No picture matches"),
            (new[] { "--image", _folder.File("photos/more/empty"), "--out-dir", outDir }, CliApp.InputError, "does not exist"),
            (new[] { "--image", _folder.File("photos/a.png"), _folder.File("photos/more/a.png"), "--out-dir", outDir }, CliApp.UsageError, "share the name 'a'"),
            (new[] { "--image", _folder.File("photos"), "--out", _folder.File("o.png") }, CliApp.UsageError, "--out and --json name one file each"),
            (new[] { "--image", _folder.File("photos/a.png"), "--method", "scorecam,gradcam", "--json", _folder.File("o.json") }, CliApp.UsageError, "--out-dir"),
            (new[] { "--image", _folder.File("photos/a.png"), "--method", "scorecam,nosuch" }, CliApp.UsageError, "unknown method 'nosuch'"),
        };
        foreach (var (args, expected, message) in cases)
        {
            var (code, _, error) = Run(args);
            code.Should().Be(expected, string.Join(' ', args));
            error.Trim().Split('\n').Should().ContainSingle(string.Join(' ', args)).Which.Should().StartWith("error:").And.Contain(message);
            Directory.Exists(outDir).Should().BeFalse();
            File.Exists(_folder.File("o.png")).Should().BeFalse();
        }
    }
}
