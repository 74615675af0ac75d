using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Kernels;

public class BilinearUpsamplerTests
{
    [Test]
    public void Two_by_two_to_four_by_four_matches_hand_computed_half_pixel_values()
    {
        // align_corners=False: source = (o + 0.5)·0.5 − 0.5, clamped at the edges, so columns sample 0, .25, .75, 1.
        var upsampler = new BilinearUpsampler(2, 2, 4, 4);
        var dst = new float[16];
        upsampler.Upsample(new float[] { 0, 1, 2, 3 }, dst, new float[upsampler.ScratchLength]);
        dst.Should().Equal(new[]
        {
            0f, 0.25f, 0.75f, 1f,
            0.5f, 0.75f, 1.25f, 1.5f,
            1.5f, 1.75f, 2.25f, 2.5f,
            2f, 2.25f, 2.75f, 3f,
        });
    }

    [Test]
    public void Align_corners_keeps_the_corner_values_and_spaces_evenly()
    {
        var upsampler = new BilinearUpsampler(1, 2, 1, 5, alignCorners: true);
        var dst = new float[5];
        upsampler.Upsample(new float[] { 0, 4 }, dst, new float[upsampler.ScratchLength]);
        dst.Should().Equal(0f, 1f, 2f, 3f, 4f);
    }

    [TestCase(7, 7, 224, 224, false)]
    [TestCase(14, 14, 224, 224, false)]
    [TestCase(12, 12, 96, 96, false)]
    [TestCase(3, 5, 17, 31, false)]
    [TestCase(3, 5, 17, 31, true)]
    [TestCase(8, 8, 4, 4, false)]
    [TestCase(1, 1, 9, 9, false)]
    public void Matches_a_scalar_implementation_of_the_definition(int h, int w, int outH, int outW, bool alignCorners)
    {
        var random = new Random(h * 1000 + outW);
        float[] src = Enumerable.Range(0, h * w).Select(_ => (float)random.NextDouble() * 10 - 5).ToArray();
        var upsampler = new BilinearUpsampler(h, w, outH, outW, alignCorners);
        var dst = new float[outH * outW];
        upsampler.Upsample(src, dst, new float[upsampler.ScratchLength]);
        float[] expected = Reference.Bilinear(src, h, w, outH, outW, alignCorners);
        for (int i = 0; i < dst.Length; i++) dst[i].Should().BeApproximately(expected[i], 1e-4f);
    }

    [Test]
    public void Rejects_a_short_scratch_span()
    {
        var upsampler = new BilinearUpsampler(2, 2, 4, 4);
        var act = () => upsampler.Upsample(new float[4], new float[16], new float[3]);
        act.Should().Throw<ArgumentException>().WithMessage("*Scratch*");
    }

    [TestCase(3, 4, 12, 9, false)]
    [TestCase(28, 28, 96, 96, false)]
    [TestCase(5, 2, 7, 11, true)]
    public void Transpose_is_the_adjoint_of_upsampling(int h, int w, int th, int tw, bool alignCorners)
    {
        // <U a, b> = <a, Uᵀ b> for random a (source) and b (target): the definition of the transpose.
        var random = new Random(h * 31 + th);
        float[] a = Enumerable.Range(0, h * w).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, th * tw).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var upsampler = new BilinearUpsampler(h, w, th, tw, alignCorners);
        var ua = new float[th * tw];
        upsampler.Upsample(a, ua, new float[upsampler.ScratchLength]);
        var utb = new float[h * w];
        upsampler.Transpose(b, utb);
        double left = ua.Zip(b, (x, y) => (double)x * y).Sum(), right = a.Zip(utb, (x, y) => (double)x * y).Sum();
        left.Should().BeApproximately(right, 1e-4 * (1 + Math.Abs(left)));
    }
}
