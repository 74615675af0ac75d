using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Output;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>explain's picture flags (size, alpha, colour bar, panel) and the attribution pictures of pixel-space methods.</summary>
public class ExplainPicturesTests
{
    private TempFolder _folder = null!;
    private string _model = null!, _picture = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        _picture = _folder.File("squares.png");
        using var image = new Image<Rgb24>(64, 64);
        for (int y = 8; y < 24; y++) for (int x = 8; x < 24; x++) image[x, y] = new Rgb24(255, 0, 0);
        image.SaveAsPng(_picture);
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private (int Code, string Out, string Err) Explain(params string[] extra)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] args = new[] { "explain", "--model", _model, "--image", _picture, "--mean", "0,0,0", "--std", "1,1,1", "--out", _folder.File("o.png") }.Concat(extra).ToArray();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public void Overlay_size_alpha_and_colour_bar_shape_the_overlay()
    {
        Explain("--picture", "overlay", "--overlay-size", "128", "--alpha", "0", "--colorbar").Code.Should().Be(0);
        using (var overlay = Image.Load<Rgb24>(_folder.File("o.png")))
        {
            // 128 picture + 4 gap + 8 bar; alpha 0 leaves the black background black; jet's 1 tops the bar.
            (overlay.Width, overlay.Height).Should().Be((140, 128));
            overlay[100, 100].Should().Be(new Rgb24(0, 0, 0));
            overlay[130, 64].Should().Be(new Rgb24(255, 255, 255));
            overlay[136, 0].Should().Be(new Rgb24(128, 0, 0));
        }
        Explain("--picture", "overlay", "--colorbar", "false", "--overlay-size", "0").Code.Should().Be(0);
        using (var kept = Image.Load<Rgb24>(_folder.File("o.png"))) (kept.Width, kept.Height).Should().Be((64, 64));
    }

    [Test]
    public void The_default_picture_is_the_panel_of_input_overlay_and_heatmap_with_a_colour_bar()
    {
        var (code, output, _) = Explain("--overlay-size", "64");
        code.Should().Be(0);
        output.Should().Contain($"panel:      {_folder.File("o.png")}");
        using (var panel = Image.Load<Rgb24>(_folder.File("o.png")))
        {
            (panel.Width, panel.Height).Should().Be((3 * 64 + 3 * 4 + ColorBar.WidthFor(64), 64), "three tiles, the bar and a gap before each but the first");
            panel[16, 16].Should().Be(new Rgb24(255, 0, 0), "the first tile is the input");
            panel[panel.Width - 1, 0].Should().Be(new Rgb24(128, 0, 0), "jet's 1 tops the colour bar");
        }
        Explain("--overlay-size", "64", "--colorbar", "false").Code.Should().Be(0);
        using var bare = Image.Load<Rgb24>(_folder.File("o.png"));
        (bare.Width, bare.Height).Should().Be((3 * 64 + 2 * 4, 64));
    }

    [TestCase("--alpha", "1.5", "--alpha must be between 0 and 1")]
    [TestCase("--overlay-size", "-1", "--overlay-size must be 0")]
    [TestCase("--attribution-view", "sepia", "--attribution-view must be magnitude, signed or rgb")]
    [TestCase("--colormap", "rainbow", "--colormap must be jet or viridis")]
    [TestCase("--picture", "collage", "--picture must be panel or overlay")]
    public void Bad_picture_flags_are_usage_errors(string flag, string value, string message)
    {
        var (code, _, error) = Explain(flag, value);
        code.Should().Be(CliApp.UsageError);
        error.Should().Contain(message);
        File.Exists(_folder.File("o.png")).Should().BeFalse();
    }

    [TestCase("guided-backprop", "rgb")]
    [TestCase("gradient", "magnitude")]
    public void A_pixel_space_method_writes_its_attribution_picture_beside_the_overlay(string method, string view)
    {
        var (code, output, error) = Explain("--method", method, "--overlay-size", "64");
        (code, error).Should().Be((0, ""));
        string picture = _folder.File($"o-{view}.png");
        output.Should().Contain($"attribution: {picture}");
        using var image = Image.Load<Rgb24>(picture);
        int bar = view == "rgb" ? 0 : 4 + ColorBar.WidthFor(64); // the gradient picture has no scale to show
        (image.Width, image.Height).Should().Be((64 + bar, 64), "the 32x32 input attribution scaled up to 64");
    }

    [TestCase("guided-backprop", null, AttributionView.Rgb)]
    [TestCase("gradient", null, AttributionView.Magnitude)]
    [TestCase("guided-backprop", AttributionView.Signed, AttributionView.Signed)]
    public void Pixel_space_explanations_get_their_papers_picture_beside_the_overlay(string method, AttributionView? asked, AttributionView expected)
    {
        var style = new PictureStyle(new OverlayOptions { MinShortSide = 0 }, false, asked);
        float[] values = { 1f, -2f, 0f, 0f, 3f, 1f }; // 3 channels of 1x2
        Explanation e = PixelSpaceExplanation(method, new Attribution(3, 1, 2, values));
        using Image<Rgb24> picture = style.DrawAttribution(e, new PreprocessOptions())!;
        using Image<Rgb24> direct = AttributionRenderer.Render(values, 3, 1, 2, expected, minShortSide: 0);
        HeatmapRendererPixels(picture).Should().Equal(HeatmapRendererPixels(direct));
        style.DrawAttribution(PixelSpaceExplanation("rise", null), new PreprocessOptions()).Should().BeNull("a method without an attribution has no second picture");
    }

    private static Explanation PixelSpaceExplanation(string method, Attribution? attribution)
    {
        var map = new SaliencyMap(2, 1, new[] { 0f, 1f });
        return new Explanation(method, new TargetInfo("red", 0, "red", 0.9f), new Prediction(0, "red", 0.9f), map, map, Array.Empty<float>(),
            new TargetLayer("input", null, null, 3, 1, 2), 1, 0, TimeSpan.Zero, TimeSpan.Zero, attribution);
    }

    private static List<Rgb24> HeatmapRendererPixels(Image<Rgb24> image) => Imaging.HeatmapRendererTests.Pixels(image);
}
