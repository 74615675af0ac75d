using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Metrics;

/// <summary>Each metric on small hand-built maps whose answer is computed by hand.</summary>
public class MetricDefinitionTests
{
    /// <summary>4×4 map with values 1..16 in row-major order.</summary>
    private static SaliencyMap Ramp() => new(4, 4, Enumerable.Range(1, 16).Select(v => (float)v).ToArray());

    private static SaliencyMap Point(int width, int height, int x, int y)
    {
        var values = new float[width * height];
        values[y * width + x] = 1f;
        return new SaliencyMap(width, height, values);
    }

    [Test]
    public void Energy_pointing_game_is_the_share_of_the_energy_inside_the_box()
    {
        // Box columns 1..2, rows 1..2: 6 + 7 + 10 + 11 = 34 of 1 + ... + 16 = 136.
        EnergyPointingGame.Score(Ramp(), new BoundingBox(1, 1, 3, 3)).Should().BeApproximately(0.25, 1e-12);
        EnergyPointingGame.Score(Ramp(), new BoundingBox(0, 0, 4, 4)).Should().BeApproximately(1.0, 1e-12);
        EnergyPointingGame.Score(Ramp(), new BoundingBox(0, 3, 4, 4)).Should().BeApproximately(58.0 / 136, 1e-12, "last row 13..16");
        EnergyPointingGame.Score(Ramp(), new BoundingBox(-5, -5, 1, 1)).Should().BeApproximately(1.0 / 136, 1e-12, "clipped to the map");
    }

    [Test]
    public void Energy_pointing_game_ignores_negative_values_and_scores_an_empty_map_zero()
    {
        var map = new SaliencyMap(2, 2, new[] { 3f, -10f, 1f, 0f });
        EnergyPointingGame.Score(map, new BoundingBox(0, 0, 1, 1)).Should().BeApproximately(0.75, 1e-12);
        EnergyPointingGame.Score(new SaliencyMap(2, 2, new float[4]), new BoundingBox(0, 0, 1, 1)).Should().Be(0);
    }

    [Test]
    public void Boxes_in_original_pixels_scale_to_the_stretched_input()
    {
        // 200×100 picture stretched to 96×96: x × 0.48, y × 0.96.
        new BoundingBox(50, 25, 150, 75).ToInput(200, 100, 96, 96).Should().Be(new BoundingBox(24, 24, 72, 72));
        new BoundingBox(0, 0, 200, 100).ToInput(200, 100, 96, 96).Should().Be(new BoundingBox(0, 0, 96, 96));
        new BoundingBox(10, 10, 11, 11).ToInput(1000, 1000, 10, 10).Should().Be(new BoundingBox(0, 0, 1, 1), "a box never vanishes");
        new BoundingBox(60, 30, 160, 80).ToInput(new SourceRegion(220, 110, 10, 5, 200, 100), 96, 96)
            .Should().Be(new BoundingBox(24, 24, 72, 72), "the crop's offset is removed first");
    }

    [TestCase(34, 10, true)]
    [TestCase(35, 10, false)]
    [TestCase(0, 34, true)]
    [TestCase(40, 40, false)]
    [TestCase(10, 10, true)]
    public void Pointing_game_hits_within_15_pixels_of_the_box(int x, int y, bool hit)
    {
        // Box [0, 20) enlarged by 15 is [-15, 35).
        PointingGame.Hit(Point(64, 64, x, y), new BoundingBox(0, 0, 20, 20)).Should().Be(hit);
        PointingGame.Maximum(Point(64, 64, x, y)).Should().Be((x, y));
    }

    [Test]
    public void Pointing_game_takes_the_first_maximum_and_misses_on_a_constant_map()
    {
        var map = new SaliencyMap(4, 1, new[] { 0f, 2f, 1f, 2f });
        PointingGame.Maximum(map).Should().Be((1, 0));
        PointingGame.Hit(new SaliencyMap(64, 64, new float[64 * 64]), new BoundingBox(0, 0, 64, 64)).Should().BeFalse();
        PointingGame.Hit(Point(64, 64, 30, 5), new BoundingBox(0, 0, 20, 20), tolerance: 0).Should().BeFalse();
    }

    [Test]
    public void The_top_half_of_the_map_is_kept_and_ties_at_the_median_are_kept()
    {
        var destination = new float[4];
        TopSaliencyRegion.Restrict(new[] { 0.1f, 0.4f, 0.3f, 0.2f }, destination);
        destination.Should().Equal(0f, 0.4f, 0.3f, 0f);
        TopSaliencyRegion.Restrict(new[] { 0.5f, 0.5f, 0.5f, 0.1f }, destination);
        destination.Should().Equal(0.5f, 0.5f, 0.5f, 0f);
        var five = new float[5];
        TopSaliencyRegion.Restrict(new[] { 1f, 5f, 2f, 4f, 3f }, five);
        five.Should().Equal(0f, 5f, 0f, 4f, 3f);
    }

    [Test]
    public void Average_drop_and_increase_in_confidence_from_known_scores()
    {
        var images = new[] { new ConfidenceChange(0.8, 0.4), new ConfidenceChange(0.5, 0.6), new ConfidenceChange(0.5, 0.5), new ConfidenceChange(0.2, 0.05) };
        images[0].Drop.Should().BeApproximately(50, 1e-9);
        images[1].Drop.Should().Be(0, "max(0, Y − O)");
        images[3].Drop.Should().BeApproximately(75, 1e-9);
        // The evaluation's summary: the mean over images of each image's term (EvaluationMetric's per-image values).
        MeanInterval.Of(images.Select(c => c.Drop)).Mean.Should().BeApproximately((50 + 0 + 0 + 75) / 4.0, 1e-9);
        MeanInterval.Of(images.Select(c => c.Increased ? 100.0 : 0)).Mean.Should().BeApproximately(25, 1e-9, "only O = 0.6 > Y = 0.5; equal is no increase");
    }

    [Test]
    public void Auc_is_the_trapezoidal_area_over_the_unit_interval()
    {
        CausalMetric.Auc(new[] { 1.0, 0.5, 0.0 }).Should().BeApproximately(0.5, 1e-12);
        CausalMetric.Auc(new[] { 0.0, 1, 1, 1, 1 }).Should().BeApproximately(0.875, 1e-12);
        CausalMetric.Auc(new[] { 0.3, 0.3 }).Should().BeApproximately(0.3, 1e-12);
        CausalMetric.Auc(new[] { 0.0, 0.25, 0.5, 0.75, 1.0 }).Should().BeApproximately(0.5, 1e-12);
    }

    [Test]
    public void Pixels_are_ordered_by_decreasing_saliency_with_ties_in_row_major_order()
    {
        CausalMetric.Order(new[] { 0.2f, 0.9f, 0.2f, 0.5f, 0.9f }).Should().Equal(1, 4, 3, 0, 2);
    }

    [Test]
    public void Gaussian_blur_keeps_a_constant_interior_and_spreads_an_impulse_symmetrically()
    {
        var blur = new GaussianBlur(5, 1.0);
        blur.Kernel.ToArray().Sum().Should().BeApproximately(1f, 1e-6f);
        double[] g = Enumerable.Range(-2, 5).Select(d => Math.Exp(-d * d / 2.0)).ToArray();
        blur.Kernel[0].Should().BeApproximately((float)(g[0] / g.Sum()), 1e-6f);

        var constant = new ImageTensor(Enumerable.Repeat(2f, 3 * 9 * 9).ToArray(), 3, 9, 9);
        var c = new ImageTensor(new float[constant.Data.Length], constant.Channels, constant.Height, constant.Width);
        blur.Apply(constant.Data, constant.Channels, constant.Height, constant.Width, c.Data);
        c.Data[4 * 9 + 4].Should().BeApproximately(2f, 1e-5f);
        c.Data[0].Should().BeApproximately(2f * (blur.Kernel[2] + blur.Kernel[3] + blur.Kernel[4]) * (blur.Kernel[2] + blur.Kernel[3] + blur.Kernel[4]), 1e-5f,
            "outside the image counts as 0");

        var impulse = new float[9 * 9];
        impulse[4 * 9 + 4] = 1f;
        var result = new float[81];
        blur.Apply(impulse, 1, 9, 9, result);
        result.Sum().Should().BeApproximately(1f, 1e-5f);
        result[4 * 9 + 5].Should().BeApproximately(blur.Kernel[2] * blur.Kernel[3], 1e-6f);
        result[5 * 9 + 4].Should().BeApproximately(result[4 * 9 + 3], 1e-7f);
    }

    [Test]
    public void Class_discrimination_is_the_energy_in_the_own_box_and_in_the_other_classes_boxes()
    {
        // energy_other_classes on a two-class canvas (paper section 5.1, Fig. 6, measured with the energy-based pointing game).
        var first = new SaliencyMap(4, 1, new[] { 3f, 1f, 0f, 0f });
        var second = new SaliencyMap(4, 1, new[] { 1f, 0f, 1f, 2f });
        BoundingBox left = new(0, 0, 2, 1), right = new(2, 0, 4, 1);
        EnergyPointingGame.Score(first, left).Should().Be(1.0);
        EnergyPointingGame.Score(first, new[] { right }).Should().Be(0.0);
        EnergyPointingGame.Score(second, right).Should().BeApproximately(0.75, 1e-12);
        EnergyPointingGame.Score(second, new[] { left }).Should().BeApproximately(0.25, 1e-12);
    }

    [Test]
    public void Mean_and_95_percent_interval()
    {
        MeanInterval m = MeanInterval.Of(new[] { 1.0, 2, 3, 4, double.NaN });
        m.Count.Should().Be(4);
        m.Mean.Should().BeApproximately(2.5, 1e-12);
        m.Ci95.Should().BeApproximately(1.96 * Math.Sqrt(5.0 / 3) / 2, 1e-12);
        MeanInterval.Of(new[] { 7.0 }).Should().Be(new MeanInterval(7, 0, 1));
    }
}
