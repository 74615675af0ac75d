using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Imaging;

public class HeatmapRendererTests
{
    // matplotlib's jet at 0 and 1 (0.5 blue / 0.5 red, rounded), viridis' published end colours.
    private static readonly Rgb24 JetLow = new(0, 0, 128), JetHigh = new(128, 0, 0);
    private static readonly Rgb24 ViridisLow = new(68, 1, 84), ViridisHigh = new(253, 231, 37);
    private static readonly Rgb24 White = new(255, 255, 255), Grey = new(100, 100, 100);

    [TestCase(96, 96, 384, 96 * 4, 96 * 4)]
    [TestCase(100, 50, 384, 768, 384)]
    [TestCase(500, 400, 384, 500, 400)]
    [TestCase(96, 96, 0, 96, 96)]
    [TestCase(200, 100, 150, 300, 150)]
    public void Render_scales_small_pictures_up_to_the_minimum_short_side_and_keeps_large_ones(int width, int height, int minShortSide, int expectedWidth, int expectedHeight)
    {
        using var original = new Image<Rgb24>(width, height, Grey);
        using Image<Rgb24> overlay = HeatmapRenderer.Render(original, Uniform(1f), options: new OverlayOptions { MinShortSide = minShortSide });
        (overlay.Width, overlay.Height).Should().Be((expectedWidth, expectedHeight));
    }

    [Test]
    public void Enlarge_gives_the_picture_at_the_overlays_size()
    {
        using var original = new Image<Rgb24>(96, 48, Grey);
        using Image<Rgb24> enlarged = HeatmapRenderer.Enlarge(original);
        (enlarged.Width, enlarged.Height).Should().Be((768, 384));
        Pixels(enlarged).Should().AllBeEquivalentTo(Grey);
    }

    [Test]
    public void Render_blends_the_colormap_over_the_picture_with_alpha()
    {
        using var original = new Image<Rgb24>(96, 96, Grey);
        using Image<Rgb24> overlay = HeatmapRenderer.Render(original, Uniform(1f), options: new OverlayOptions { Alpha = 0.25f });
        // 100 + (128 - 100) · 0.25 = 107; 100 + (0 - 100) · 0.25 = 75.
        Pixels(overlay).Should().AllBeEquivalentTo(new Rgb24(107, 75, 75));
    }

    [Test]
    public void Render_draws_only_inside_the_region_the_model_saw_scaled_with_the_picture()
    {
        using var original = new Image<Rgb24>(40, 20, Grey);
        var region = new SourceRegion(40, 20, 10, 0, 20, 20);
        using Image<Rgb24> overlay = HeatmapRenderer.Render(original, Uniform(1f), region, new OverlayOptions { MinShortSide = 80, Alpha = 1f });
        (overlay.Width, overlay.Height).Should().Be((160, 80));
        for (int x = 0; x < 160; x++)
            overlay[x, 40].Should().Be(x is >= 40 and < 120 ? JetHigh : Grey, $"column {x}");
    }

    [Test]
    public void Colour_bar_runs_from_the_colormaps_top_to_its_bottom_beside_a_white_gap()
    {
        using var original = new Image<Rgb24>(96, 96, Grey);
        using Image<Rgb24> overlay = HeatmapRenderer.Render(original, Uniform(0f), options: new OverlayOptions { ColorBar = true, Colormap = Colormap.Viridis });
        // 384 picture + 8 gap (384 / 48) + 24 bar (384 / 16)
        (overlay.Width, overlay.Height).Should().Be((416, 384));
        Enumerable.Range(384, 8).Select(x => overlay[x, 200]).Should().AllBeEquivalentTo(White);
        Enumerable.Range(392, 24).Select(x => overlay[x, 0]).Should().AllBeEquivalentTo(ViridisHigh);
        Enumerable.Range(392, 24).Select(x => overlay[x, 383]).Should().AllBeEquivalentTo(ViridisLow);
    }

    [Test]
    public void Panel_is_input_overlay_and_heatmap_side_by_side()
    {
        using var original = new Image<Rgb24>(96, 96, Grey);
        var heat = new SaliencyMap(2, 1, new[] { 0f, 1f });
        using Image<Rgb24> panel = HeatmapRenderer.Panel(original, heat, options: new OverlayOptions { Alpha = 0.25f });
        (panel.Width, panel.Height).Should().Be((3 * 384 + 2 * 8, 384));
        Enumerable.Range(0, 384).Select(x => panel[x, 100]).Should().AllBeEquivalentTo(Grey);
        Enumerable.Range(384, 8).Concat(Enumerable.Range(776, 8)).Select(x => panel[x, 100]).Should().AllBeEquivalentTo(White);
        // Bilinear upsampling (align_corners=False) keeps the two source values at the outer edges.
        panel[392, 100].Should().Be(new Rgb24(75, 75, 107));
        panel[775, 100].Should().Be(new Rgb24(107, 75, 75));
        panel[784, 100].Should().Be(JetLow);
        panel[1167, 100].Should().Be(JetHigh);
    }

    [Test]
    public void Grey_and_blue_white_red_colormaps_match_matplotlib()
    {
        var values = new SaliencyMap(5, 1, new[] { 0f, 0.25f, 0.5f, 0.75f, 1f });
        using Image<Rgb24> grey = HeatmapRenderer.Colorize(values, Colormap.Grey);
        Pixels(grey).Should().Equal(new Rgb24(0, 0, 0), new Rgb24(64, 64, 64), new Rgb24(128, 128, 128), new Rgb24(191, 191, 191), new Rgb24(255, 255, 255));
        using Image<Rgb24> bwr = HeatmapRenderer.Colorize(values, Colormap.BlueWhiteRed);
        Pixels(bwr).Should().Equal(new Rgb24(0, 0, 255), new Rgb24(128, 128, 255), new Rgb24(255, 255, 255), new Rgb24(255, 128, 128), new Rgb24(255, 0, 0));
    }

    [Test]
    public void Bad_options_are_refused()
    {
        using var original = new Image<Rgb24>(8, 8);
        FluentActions.Invoking(() => HeatmapRenderer.Render(original, Uniform(1f), options: new OverlayOptions { Alpha = 1.5f }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Alpha*");
        FluentActions.Invoking(() => HeatmapRenderer.Panel(original, Uniform(1f), options: new OverlayOptions { MinShortSide = -1 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*short side*");
        FluentActions.Invoking(() => HeatmapRenderer.Overlay(original, Uniform(1f), new SourceRegion(8, 8, 4, 0, 8, 8)))
            .Should().Throw<ArgumentException>().WithMessage("*inside*");
    }

    private static SaliencyMap Uniform(float value) => new(1, 1, new[] { value });

    internal static List<Rgb24> Pixels(Image<Rgb24> image)
    {
        var pixels = new List<Rgb24>();
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++) pixels.Add(image[x, y]);
        return pixels;
    }
}
