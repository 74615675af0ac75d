using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Conv (any kernel, stride, padding, dilation, group): the input gradient is the ConvTranspose of g with the same
/// weights and windows, output_padding making its size the input's. With stride 1 (most layers) it is emitted as the
/// equivalent Conv of g with the weights transposed per group and flipped, padded by (k − 1)·d − p: ONNX Runtime's
/// Conv kernels are faster than its ConvTranspose, and the weight rewrite is constant-folded when the session loads.
/// The weights and bias are constants here.
/// </summary>
internal sealed class ConvRule : IGradientRule
{
    public string OpType => "Conv";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g) return;
        string x = node.Input[0], w = node.Input[1];
        if (e.NeedsGradient(w) || e.NeedsGradient(Attr.Input(node, 2)))
            throw e.Unsupported("has weights computed from the activations; only constant weights are differentiated");
        if (!e.NeedsGradient(x)) return;
        long[] kernel = Attr.GetInts(node, "kernel_shape") ?? e.Shape(w).Skip(2).ToArray();
        long group = Attr.GetInt(node, "group", 1);
        var geometry = PoolGeometry.Of(node, e, kernel);
        int n = kernel.Length;
        long[] pads = new long[2 * n];
        for (int i = 0; i < n; i++)
        {
            long reach = (kernel[i] - 1) * geometry.Dilations[i];
            (pads[i], pads[i + n]) = (reach - geometry.Pads[i], reach - geometry.Pads[i + n]);
        }
        if (geometry.Strides.All(s => s == 1) && pads.All(p => p >= 0))
            e.Accumulate(x, e.Op("Conv", new[] { g, Flipped(e, w, group, n) },
                Attr.Ints("kernel_shape", kernel), Attr.Ints("dilations", geometry.Dilations), Attr.Ints("pads", pads), Attr.Int("group", group)));
        else
            e.Accumulate(x, e.Op("ConvTranspose", new[] { g, w }, geometry.Transposed(e, node, group)));
    }

    /// <summary>W [Cout, Cin/G, k…] → W′ [Cin, Cout/G, k…] with W′[i, o] = W[o, i] within each group, spatially reversed.</summary>
    private static string Flipped(GradientEmitter e, string w, long group, int n)
    {
        long[] shape = e.Shape(w), spatial = shape.Skip(2).ToArray();
        long cout = shape[0], cinPerGroup = shape[1];
        string transposed = group == 1
            ? e.Op("Transpose", new[] { w }, Attr.Ints("perm", new long[] { 1, 0 }.Concat(Enumerable.Range(2, n).Select(i => (long)i)).ToArray()))
            : e.Reshape(e.Op("Transpose", new[] { e.Reshape(w, e.Int64s(new[] { group, cout / group, cinPerGroup }.Concat(spatial).ToArray())) },
                    Attr.Ints("perm", new long[] { 0, 2, 1 }.Concat(Enumerable.Range(3, n).Select(i => (long)i)).ToArray())),
                e.Int64s(new[] { group * cinPerGroup, cout / group }.Concat(spatial).ToArray()));
        long[] axes = Enumerable.Range(2, n).Select(i => (long)i).ToArray();
        return e.Op("Slice", transposed, e.Int64s(Enumerable.Repeat(-1L, n).ToArray()), e.Int64s(Enumerable.Repeat(long.MinValue, n).ToArray()),
            e.Int64s(axes), e.Int64s(Enumerable.Repeat(-1L, n).ToArray()));
    }
}
