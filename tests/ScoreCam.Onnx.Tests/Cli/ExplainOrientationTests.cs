using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static ScoreCam.Onnx.Tests.Imaging.OrientedPictures;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>`scorecam explain` on pictures stored as cameras store them (the default model, the committed sample).</summary>
public class ExplainOrientationTests
{
    private TempFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private static float[] Map(JsonElement e) => e.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static (int, string, float) Prediction(JsonElement e)
    {
        JsonElement p = e.GetProperty("prediction");
        return (p.GetProperty("index").GetInt32(), p.GetProperty("label").GetString()!, p.GetProperty("probability").GetSingle());
    }

    private JsonElement ExplainOne(string picture, params string[] more)
    {
        string json = _folder.File($"{Guid.NewGuid():N}.json");
        var (code, _, error) = CliRunner.Run(new[] { "explain", "--image", picture, "--method", "gradcam", "--json", json }.Concat(more).ToArray());
        code.Should().Be(0, error);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        return document.RootElement.Clone();
    }

    [Test]
    public void Each_orientation_gives_the_upright_samples_map_prediction_and_overlay()
    {
        string pictures = Directory.CreateDirectory(_folder.File("pictures")).FullName, outDir = _folder.File("out");
        File.Copy(SamplePath, Path.Combine(pictures, "upright.png"));
        using (Image<Rgb24> sample = Sample()) WriteAllEight(sample, pictures);

        var (code, _, error) = CliRunner.Run("explain", "--image", pictures, "--method", "gradcam", "--out-dir", outDir, "--quiet");
        (code, error).Should().Be((0, ""));
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var entries = results.RootElement.GetProperty("explanations").EnumerateArray()
            .ToDictionary(e => Path.GetFileNameWithoutExtension(e.GetProperty("image").GetString())!);
        entries.Keys.Should().BeEquivalentTo(new[] { "upright" }.Concat(Enumerable.Range(1, 8).Select(v => $"o{v}")));
        JsonElement upright = entries["upright"];
        Prediction(upright).Item2.Should().Be("Ankle boot");
        upright.GetProperty("orientation").GetInt32().Should().Be(1, "the sample has no tag");
        using Image<Rgb24> uprightOverlay = Image.Load<Rgb24>(Path.Combine(outDir, "upright-gradcam.png"));
        for (int v = 1; v <= 8; v++)
        {
            JsonElement e = entries[$"o{v}"];
            e.GetProperty("orientation").GetInt32().Should().Be(v, "the JSON states the orientation applied");
            Prediction(e).Should().Be(Prediction(upright), $"orientation {v}");
            Map(e).Should().Equal(Map(upright), $"orientation {v}");
            using Image<Rgb24> overlay = Image.Load<Rgb24>(Path.Combine(outDir, $"o{v}-gradcam.png"));
            Pixels(overlay).Should().Equal(Pixels(uprightOverlay), "the overlay of orientation {0} shows the upright picture", v);
        }
    }

    [Test]
    public void Keep_orientation_explains_the_stored_pixels()
    {
        using Image<Rgb24> sample = Sample();
        using Image<Rgb24> turned = Stored(sample, 6);
        string tagged = Save(turned, 6, _folder.File("tagged.png")), untagged = Save(turned, null, _folder.File("untagged.png"));
        JsonElement kept = ExplainOne(tagged, "--keep-orientation"), stored = ExplainOne(untagged), upright = ExplainOne(tagged);
        Map(kept).Should().Equal(Map(stored));
        Prediction(kept).Should().Be(Prediction(stored));
        Map(upright).Should().NotEqual(Map(stored), "without the flag the tag is applied");
        (kept.GetProperty("orientation").GetInt32(), upright.GetProperty("orientation").GetInt32()).Should().Be((1, 6));
    }

    [Test]
    public void An_orientation_value_out_of_range_is_explained_as_stored_with_a_warning_line()
    {
        using Image<Rgb24> sample = Sample();
        using Image<Rgb24> turned = Stored(sample, 6);
        string tagged = Save(turned, 9, _folder.File("tagged.png")), untagged = Save(turned, null, _folder.File("untagged.png"));
        string json = _folder.File("tagged.json");
        var (code, _, error) = CliRunner.Run("explain", "--image", tagged, "--method", "gradcam", "--json", json);
        code.Should().Be(0, error);
        error.Trim().Should().Be($"warning: Image '{tagged}' has EXIF orientation 9, which is not one of the eight defined values (1-8); it is explained as its pixels are stored.");
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        Map(document.RootElement).Should().Equal(Map(ExplainOne(untagged)));
        document.RootElement.GetProperty("orientation").GetInt32().Should().Be(1, "nothing was applied");
    }

    [Test]
    public void The_embedded_sample_states_no_orientation_applied_and_a_tensor_none_at_all()
    {
        string json = _folder.File("sample.json");
        CliRunner.Run("explain", "--method", "gradcam", "--json", json).Code.Should().Be(0);
        using (var sample = JsonDocument.Parse(File.ReadAllText(json)))
            sample.RootElement.GetProperty("orientation").GetInt32().Should().Be(1);
        string tensorPath = _folder.File("sample.npy");
        using (var explainer = CamExplainer.Open(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx")))
        using (Image<Rgb24> picture = Sample())
        {
            ImageTensor t = explainer.Preprocess(picture);
            NpyFile.Write(tensorPath, t.Data, 1, t.Channels, t.Height, t.Width);
        }
        var (code, _, error) = CliRunner.Run("explain", "--tensor", tensorPath, "--method", "gradcam", "--json", json);
        code.Should().Be(0, error);
        using var tensor = JsonDocument.Parse(File.ReadAllText(json));
        tensor.RootElement.TryGetProperty("orientation", out _).Should().BeFalse("a tensor was never a picture with a tag");
    }
}
