using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Kernels;

public class MapKernelsTests
{
    [Test]
    public void Min_max_normalization_maps_the_range_onto_zero_one()
    {
        var map = new float[] { 2, 4, 6, 10 };
        MapKernels.TryMinMaxNormalize(map).Should().BeTrue();
        map.Should().Equal(0f, 0.25f, 0.5f, 1f);
    }

    [Test]
    public void A_constant_map_is_reported_and_left_unchanged()
    {
        var map = new float[] { 3, 3, 3 };
        MapKernels.TryMinMaxNormalize(map).Should().BeFalse();
        map.Should().Equal(3f, 3f, 3f);
    }

    [Test]
    public void Mask_multiplies_every_plane_of_the_image()
    {
        var image = new float[] { 1, 2, 3, 4, 5, 6 }; // two planes of three
        var destination = new float[6];
        MapKernels.ApplyMask(image, new float[] { 0, 0.5f, 1 }, destination);
        destination.Should().Equal(0f, 1f, 3f, 0f, 2.5f, 6f);
    }

    [Test]
    public void Weighted_sum_matches_loops()
    {
        var random = new Random(3);
        int k = 37, plane = 49;
        float[] maps = Enumerable.Range(0, k * plane).Select(_ => (float)random.NextDouble()).ToArray();
        float[] weights = Enumerable.Range(0, k).Select(_ => (float)random.NextDouble() - 0.3f).ToArray();
        var destination = new float[plane];
        MapKernels.WeightedSum(maps, weights, destination);
        for (int i = 0; i < plane; i++)
        {
            double expected = 0;
            for (int c = 0; c < k; c++) expected += weights[c] * maps[c * plane + i];
            destination[i].Should().BeApproximately((float)expected, 1e-4f);
        }
    }

    [Test]
    public void Softmax_is_stable_for_large_logits()
    {
        var scores = new float[] { 1000f, 999f, -50f };
        var destination = new float[3];
        MapKernels.Softmax(scores, destination);
        float[] expected = Reference.Softmax(scores);
        for (int i = 0; i < 3; i++) destination[i].Should().BeApproximately(expected[i], 1e-6f);
        destination.Sum().Should().BeApproximately(1f, 1e-6f);
    }

    [Test]
    public void Relu_and_binarize()
    {
        var values = new float[] { -1, 0, 0.5f };
        MapKernels.Relu(values);
        values.Should().Equal(0f, 0f, 0.5f);
        MapKernels.Binarize(values);
        values.Should().Equal(0f, 0f, 1f);
    }
}
