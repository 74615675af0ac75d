using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// The window geometry of a Conv or pooling node, with auto_pad resolved to explicit pads from the probed shapes, and
/// the ConvTranspose attributes that map an output-shaped gradient back onto the input exactly.
/// </summary>
internal sealed record PoolGeometry(long[] Kernel, long[] Strides, long[] Dilations, long[] Pads)
{
    public static PoolGeometry Of(NodeProto node, GradientEmitter e, long[] kernel)
    {
        long[] x = e.Shape(node.Input[0]), y = e.Shape(node.Output[0]);
        int n = kernel.Length;
        long[] strides = Attr.GetInts(node, "strides") ?? Enumerable.Repeat(1L, n).ToArray();
        long[] dilations = Attr.GetInts(node, "dilations") ?? Enumerable.Repeat(1L, n).ToArray();
        long[] pads = Attr.GetInts(node, "pads") ?? new long[2 * n];
        string autoPad = Attr.GetString(node, "auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            pads = new long[2 * n];
            for (int i = 0; i < n; i++)
            {
                long total = Math.Max(0, (y[i + 2] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - x[i + 2]);
                pads[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                pads[i + n] = total - pads[i];
            }
        }
        else if (autoPad == "VALID") pads = new long[2 * n];
        return new PoolGeometry(kernel, strides, dilations, pads);
    }

    /// <summary>
    /// Attributes of the ConvTranspose that scatters an output gradient back onto the input: same windows, with
    /// output_padding (or extra end cropping) chosen so the result has the input's exact spatial size.
    /// </summary>
    public AttributeProto[] Transposed(GradientEmitter e, NodeProto node, long group)
    {
        long[] x = e.Shape(node.Input[0]), y = e.Shape(node.Output[0]);
        int n = Kernel.Length;
        var outputPadding = new long[n];
        long[] pads = (long[])Pads.Clone();
        for (int i = 0; i < n; i++)
        {
            long covered = (y[i + 2] - 1) * Strides[i] + (Kernel[i] - 1) * Dilations[i] + 1 - Pads[i] - Pads[i + n];
            long missing = x[i + 2] - covered;
            if (missing >= 0) outputPadding[i] = missing;
            else pads[i + n] -= missing; // windows that run past the end (ceil_mode): crop the excess
        }
        return new[]
        {
            Attr.Ints("kernel_shape", Kernel), Attr.Ints("strides", Strides), Attr.Ints("dilations", Dilations),
            Attr.Ints("pads", pads), Attr.Ints("output_padding", outputPadding), Attr.Int("group", group),
        };
    }
}
