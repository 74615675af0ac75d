using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// AveragePool: each output's gradient, divided by its window's divisor, is spread over the window: a depthwise
/// ConvTranspose with a kernel of ones. The divisors (as ONNX Runtime and PyTorch count them) are computed here
/// from the static spatial shapes: the window clipped to the padded input (count_include_pad = 1) or to the real
/// input (count_include_pad = 0), so ceil_mode's partial windows are exact too.
/// </summary>
internal sealed class AveragePoolRule : IGradientRule
{
    public string OpType => "AveragePool";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string x = node.Input[0];
        long[] kernel = Attr.GetInts(node, "kernel_shape") ?? throw e.Unsupported("has no kernel_shape");
        var geometry = PoolGeometry.Of(node, e, kernel);
        long[] xs = e.Shape(x), ys = e.Shape(node.Output[0]);
        long channels = xs[1], size = kernel.Aggregate(1L, (p, k) => p * k);
        string scaled = e.Op("Div", g, e.Floats(Divisors(geometry, xs, ys, Attr.GetInt(node, "count_include_pad", 0) != 0),
            new long[] { 1, 1 }.Concat(ys.Skip(2)).ToArray()));
        string weights = e.Floats(Enumerable.Repeat(1f, (int)(channels * size)).ToArray(), new[] { channels, 1L }.Concat(kernel).ToArray());
        var attributes = geometry.Transposed(e, node, channels);
        e.Accumulate(x, e.Op("ConvTranspose", new[] { scaled, weights }, attributes));
    }

    private static float[] Divisors(PoolGeometry geometry, long[] xs, long[] ys, bool includePad)
    {
        int n = geometry.Kernel.Length;
        long[] outSize = ys.Skip(2).ToArray();
        var divisors = new float[outSize.Aggregate(1L, (p, d) => p * d)];
        var index = new long[n];
        for (int flat = 0; flat < divisors.Length; flat++)
        {
            long rest = flat, count = 1;
            for (int d = n - 1; d >= 0; d--)
            {
                index[d] = rest % outSize[d];
                rest /= outSize[d];
            }
            for (int d = 0; d < n; d++)
            {
                long start = index[d] * geometry.Strides[d] - geometry.Pads[d], end = start + geometry.Kernel[d];
                count *= includePad ? Math.Min(end, xs[d + 2] + geometry.Pads[d + n]) - start : Math.Min(end, xs[d + 2]) - Math.Max(start, 0);
            }
            divisors[flat] = count;
        }
        return divisors;
    }
}
