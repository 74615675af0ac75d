using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// Resize of an N×C×H×W tensor (opset 10 and 11+), linear or nearest, over the spatial axes: separable, so each plane's
/// output is Wh · X · Wwᵀ with one interpolation matrix per axis, built here from the static shapes as ONNX Runtime
/// samples (the coordinate transformation, linear's clamp to the border, nearest's rounding); the gradient of a plane
/// is Whᵀ · G · Ww, two MatMuls broadcast over N and C. Cubic, crop-and-resize, tf_half_pixel_for_nn, nearest_mode
/// ceil and aspect-ratio policies are refused (ONNX Runtime's sampling in the last two did not match the spec's
/// formulas in the finite-difference tests).
/// </summary>
internal sealed class ResizeRule : IGradientRule
{
    public string OpType => "Resize";

    public void Emit(NodeProto node, GradientEmitter e)
    {
        if (e.GradientOf(node.Output[0]) is not { } g || !e.NeedsGradient(node.Input[0])) return;
        string x = node.Input[0];
        long[] xs = e.Shape(x), ys = e.Shape(node.Output[0]);
        if (xs.Length != 4 || xs[0] != ys[0] || xs[1] != ys[1])
            throw e.Unsupported($"resizes a tensor of shape [{string.Join(',', xs)}] to [{string.Join(',', ys)}]; only the last two axes of N×C×H×W are differentiated");
        string mode = Attr.GetString(node, "mode", "nearest");
        if (mode is not ("linear" or "nearest"))
            throw e.Unsupported($"uses mode '{mode}'; the linear and nearest modes are differentiated (export with bilinear or nearest upsampling)");
        if (Attr.GetString(node, "keep_aspect_ratio_policy", "stretch") != "stretch")
            throw e.Unsupported("keeps the aspect ratio; only the 'stretch' policy is differentiated");
        if (Attr.GetInt(node, "antialias", 0) != 0 && (ys[2] < xs[2] || ys[3] < xs[3]))
            throw e.Unsupported("downsamples with antialiasing, which is not differentiated");
        bool opset10 = node.Input.Count == 2;
        string transform = opset10 ? "asymmetric" : Attr.GetString(node, "coordinate_transformation_mode", "half_pixel");
        float[]? scales = e.ConstantFloats(Attr.Input(node, opset10 ? 1 : 2)) is { Length: 4 } s ? s : null;
        var axis = new Axis(mode, transform, Attr.GetString(node, "nearest_mode", "round_prefer_floor"), e);
        float[] wh = axis.Matrix(xs[2], ys[2], scales?[2] ?? (float)ys[2] / xs[2]);   // H × h
        float[] ww = axis.Matrix(xs[3], ys[3], scales?[3] ?? (float)ys[3] / xs[3]);   // W × w
        string whT = e.Floats(Transpose(wh, ys[2], xs[2]), xs[2], ys[2]);
        string wwM = e.Floats(ww, ys[3], xs[3]);
        e.Accumulate(x, e.Op("MatMul", e.Op("MatMul", whT, g), wwM));
    }

    private static float[] Transpose(float[] m, long rows, long cols)
    {
        var t = new float[m.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                t[c * rows + r] = m[r * cols + c];
        return t;
    }

    /// <summary>One axis's sampling: output index → input coordinate → the input elements and their weights.</summary>
    private sealed record Axis(string Mode, string Transform, string NearestMode, GradientEmitter E)
    {
        /// <summary>The out × in matrix whose row i holds output element i's weights on the input elements.</summary>
        public float[] Matrix(long inLength, long outLength, float scale)
        {
            var m = new float[outLength * inLength];
            for (long i = 0; i < outLength; i++)
            {
                double c = Coordinate(i, inLength, outLength, scale);
                if (Mode == "nearest")
                {
                    m[i * inLength + Math.Clamp(Nearest(c), 0, inLength - 1)] = 1f;
                    continue;
                }
                c = Math.Clamp(c, 0, inLength - 1);
                long lo = (long)Math.Floor(c), hi = Math.Min(lo + 1, inLength - 1);
                float lambda = (float)(c - lo);
                m[i * inLength + lo] += 1f - lambda;
                m[i * inLength + hi] += lambda;
            }
            return m;
        }

        private double Coordinate(long i, long inLength, long outLength, float scale) => Transform switch
        {
            "half_pixel" => (i + 0.5) / scale - 0.5,
            "pytorch_half_pixel" => outLength > 1 ? (i + 0.5) / scale - 0.5 : 0,
            "align_corners" => outLength > 1 ? i * (double)(inLength - 1) / (outLength - 1) : 0,
            "asymmetric" => i / (double)scale,
            _ => throw E.Unsupported($"uses coordinate_transformation_mode '{Transform}', which is not differentiated"),
        };

        private long Nearest(double c) => NearestMode switch
        {
            "round_prefer_floor" => c == Math.Floor(c) + 0.5 ? (long)Math.Floor(c) : (long)Math.Round(c),
            "round_prefer_ceil" => (long)Math.Round(c, MidpointRounding.AwayFromZero),
            "floor" => (long)Math.Floor(c),
            _ => throw E.Unsupported($"uses nearest_mode '{NearestMode}', which is not differentiated"),
        };
    }
}
