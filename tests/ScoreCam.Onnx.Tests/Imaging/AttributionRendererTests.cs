using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Imaging;

public class AttributionRendererTests
{
    // Two channels of a 1x2 attribution: channel 0 = [1, -4], channel 1 = [-2, 2].
    private static readonly float[] TwoChannels = { 1f, -4f, -2f, 2f };

    [Test]
    public void Magnitude_is_the_largest_absolute_value_over_channels_divided_by_its_maximum()
    {
        // max_c |a| = [2, 4]; / 4
        AttributionRenderer.Magnitude(TwoChannels, 2, 1, 2).Values.Should().Equal(0.5f, 1f);
    }

    [Test]
    public void Signed_is_the_channel_sum_around_one_half()
    {
        // sum_c a = [-1, -2]; / 2 = [-0.5, -1]; 0.5 + 0.5 v = [0.25, 0]
        AttributionRenderer.Signed(TwoChannels, 2, 1, 2).Values.Should().Equal(0.25f, 0f);
    }

    [Test]
    public void Rgb_view_normalizes_each_channel_around_mid_grey()
    {
        // R = [1, -2] / 2 -> [0.75, 0]; G = [0, 0] -> [0.5, 0.5]; B = [3, 1] / 3 -> [1, 2/3]
        float[] a = { 1f, -2f, 0f, 0f, 3f, 1f };
        using Image<Rgb24> rgb = AttributionRenderer.Render(a, 3, 1, 2, AttributionView.Rgb, minShortSide: 0);
        HeatmapRendererTests.Pixels(rgb).Should().Equal(new Rgb24(191, 128, 255), new Rgb24(0, 128, 170));
        using Image<Rgb24> bgr = AttributionRenderer.Render(a, 3, 1, 2, AttributionView.Rgb, minShortSide: 0, bgr: true);
        HeatmapRendererTests.Pixels(bgr).Should().Equal(new Rgb24(255, 128, 191), new Rgb24(170, 128, 0));
    }

    [Test]
    public void Render_scales_up_without_smoothing_and_draws_the_views_colours()
    {
        using Image<Rgb24> grey = AttributionRenderer.Render(TwoChannels, 2, 1, 2, AttributionView.Magnitude, minShortSide: 4);
        (grey.Width, grey.Height).Should().Be((8, 4));
        for (int x = 0; x < 8; x++) grey[x, 2].Should().Be(x < 4 ? new Rgb24(128, 128, 128) : new Rgb24(255, 255, 255), $"column {x}");

        using Image<Rgb24> signed = AttributionRenderer.Render(TwoChannels, 2, 1, 2, AttributionView.Signed, minShortSide: 0);
        HeatmapRendererTests.Pixels(signed).Should().Equal(new Rgb24(128, 128, 255), new Rgb24(0, 0, 255));
    }

    [Test]
    public void A_zero_attribution_is_black_white_and_mid_grey()
    {
        var zero = new float[3 * 2 * 2];
        using Image<Rgb24> magnitude = AttributionRenderer.Render(zero, 3, 2, 2, AttributionView.Magnitude, minShortSide: 0);
        using Image<Rgb24> signed = AttributionRenderer.Render(zero, 3, 2, 2, AttributionView.Signed, minShortSide: 0);
        using Image<Rgb24> rgb = AttributionRenderer.Render(zero, 3, 2, 2, AttributionView.Rgb, minShortSide: 0);
        HeatmapRendererTests.Pixels(magnitude).Should().AllBeEquivalentTo(new Rgb24(0, 0, 0));
        HeatmapRendererTests.Pixels(signed).Should().AllBeEquivalentTo(new Rgb24(255, 255, 255));
        HeatmapRendererTests.Pixels(rgb).Should().AllBeEquivalentTo(new Rgb24(128, 128, 128));
    }

    [Test]
    public void Signed_colour_bar_runs_from_red_to_blue()
    {
        using Image<Rgb24> picture = AttributionRenderer.Render(TwoChannels, 2, 1, 2, AttributionView.Signed, minShortSide: 96, colorBar: true);
        // 192x96 picture, 4 gap, 8 bar
        (picture.Width, picture.Height).Should().Be((204, 96));
        picture[200, 0].Should().Be(new Rgb24(255, 0, 0));
        picture[200, 95].Should().Be(new Rgb24(0, 0, 255));
        picture[193, 50].Should().Be(new Rgb24(255, 255, 255));
    }

    [Test]
    public void Bad_attributions_are_refused()
    {
        FluentActions.Invoking(() => AttributionRenderer.Magnitude(new float[5], 2, 1, 2)).Should().Throw<ArgumentException>().WithMessage("*needs 4 values*");
        FluentActions.Invoking(() => AttributionRenderer.Signed(new[] { 1f, float.NaN }, 1, 1, 2)).Should().Throw<ArgumentException>().WithMessage("*NaN*");
        FluentActions.Invoking(() => AttributionRenderer.Render(TwoChannels, 2, 1, 2, AttributionView.Rgb)).Should().Throw<ArgumentException>().WithMessage("*1 or 3 channels*");
        FluentActions.Invoking(() => AttributionRenderer.Render(new float[3], 3, 1, 1, AttributionView.Rgb, colorBar: true)).Should().Throw<ArgumentException>().WithMessage("*colour scale*");
    }

    [Test]
    public void Large_finite_values_are_not_mistaken_for_overflow_and_a_non_finite_value_anywhere_is_refused()
    {
        // Their sum is +∞ in float32, but every value is finite: a tensor, a map and an attribution like this are valid.
        float[] large = { 3e38f, 3e38f, 1f };
        FluentActions.Invoking(() => new ScoreCam.Onnx.Core.ImageTensor(large, 1, 1, 3)).Should().NotThrow();
        FluentActions.Invoking(() => AttributionRenderer.Signed(large, 1, 1, 3)).Should().NotThrow();
        for (int i = 0; i < 3; i++)
        {
            float[] bad = { 1f, 2f, 3f };
            bad[i] = i == 1 ? float.PositiveInfinity : float.NaN;
            FluentActions.Invoking(() => new ScoreCam.Onnx.Core.ImageTensor(bad, 1, 1, 3)).Should().Throw<ScoreCam.Onnx.Core.ScoreCamException>().WithMessage("*NaN or infinite*");
        }
    }
}
