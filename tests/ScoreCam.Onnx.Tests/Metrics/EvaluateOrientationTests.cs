using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static ScoreCam.Onnx.Tests.Imaging.OrientedPictures;

namespace ScoreCam.Onnx.Tests.Metrics;

/// <summary>`scorecam evaluate` over a set whose pictures are stored as cameras store them, boxes given in the upright picture.</summary>
public class EvaluateOrientationTests
{
    private TempFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public void Each_orientation_scores_as_the_upright_sample_with_the_box_of_the_upright_picture()
    {
        string set = Directory.CreateDirectory(_folder.File("set")).FullName, outDir = _folder.File("eval");
        File.Copy(SamplePath, Path.Combine(set, "upright.png"));
        using (Image<Rgb24> sample = Sample()) WriteAllEight(sample, set);
        // The ankle boot (class 9) in the upright 96x96 sample.
        string[] files = new[] { "upright.png" }.Concat(Enumerable.Range(1, 8).Select(v => $"o{v}.png")).ToArray();
        File.WriteAllText(Path.Combine(set, "annotations.json"), "{\"images\":[" + string.Join(",", files.Select(f =>
            $"{{\"file\":\"{f}\",\"items\":[{{\"class\":9,\"label\":\"Ankle boot\",\"box\":[8,24,80,84]}}]}}")) + "]}");

        var (code, _, error) = CliRunner.Run("evaluate", "--set", set, "--out-dir", outDir, "--method", "gradcam,scorecam", "--channels", "16",
            "--metrics", "energy_pointing_game,pointing_game,average_drop,increase_in_confidence");
        code.Should().Be(0, error);
        string[] lines = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        string[] header = lines[0].Split(',');
        header[0].Should().Be("image");
        header[^1].Should().Be("seconds");
        // Each row without its picture's name and time: the method, class, prediction and every metric.
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToLookup(r => r[0], r => string.Join(",", r[1..^1]));
        rows.Select(g => g.Key).Should().BeEquivalentTo(files);
        rows["upright.png"].Should().HaveCount(2).And.OnlyContain(r => r.Contains(",9,Ankle boot,9,true,"), "the sample is classified correctly");
        rows["upright.png"].Select(r => r.Split(',')[5]).Should().NotContain("0", "the boot's box holds some of the maps' energy");
        foreach (string file in files) rows[file].Should().Equal(rows["upright.png"], file);
    }
}
