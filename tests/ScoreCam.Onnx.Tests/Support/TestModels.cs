using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Support;

/// <summary>
/// Hand-built classifiers whose explanations are known by construction. "Coloured squares": a 4×4 stride-4 conv
/// whose channels 0..2 average the R, G, B planes (channel 3 is a constant bias), ReLU (the target layer, 8×8 at
/// 32×32 input), global average pooling and a linear head: class c reads channel c. A red square is class 0's
/// evidence, a green one class 1's.
/// </summary>
internal static class TestModels
{
    public const int Size = 32, Channels = 4, Classes = 3;
    public const string TargetLayer = "features";

    public enum Head { Logits, Softmax, SingleLogit }

    /// <param name="batch">The batch size the input and outputs declare; null: symbolic.</param>
    /// <param name="bakedBatch">The batch size is also baked into the graph (a Reshape to [batch, K] in place of Flatten), as fixed-shape exports write it.</param>
    public static OnnxGraphBuilder ColouredSquares(Head head = Head.Logits, long? batch = null, bool exportActivations = false, bool bakedBatch = false)
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", batch, 3, Size, Size);
        var w = new float[Channels * 3 * 4 * 4];
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 16; i++) w[(k * 3 + k) * 16 + i] = 1f / 16f;
        var bias = new float[] { 0f, 0f, 0f, 0.5f };
        string conv = g.Node("Conv", new[] { x, g.Weights("conv.w", w, Channels, 3, 4, 4), g.Weights("conv.b", bias, Channels) }, "conv",
            Ints("kernel_shape", 4, 4), Ints("strides", 4, 4));
        string features = g.Node("Relu", new[] { conv }, TargetLayer);
        string pooled = g.Node("GlobalAveragePool", new[] { features }, "pooled");
        string flat = bakedBatch
            ? g.Node("Reshape", new[] { pooled, g.Int64s("flat.shape", batch ?? throw new ArgumentException("A baked batch needs a batch size."), Channels) }, "flat")
            : g.Node("Flatten", new[] { pooled }, "flat");
        int outputs = head == Head.SingleLogit ? 1 : Classes;
        var fc = new float[outputs * Channels];
        for (int c = 0; c < outputs; c++) fc[c * Channels + c] = 40f;
        string logits = g.Node("Gemm", new[] { flat, g.Weights("fc.w", fc, outputs, Channels), g.Weights("fc.b", new float[outputs], outputs) },
            head == Head.Softmax ? "logits" : "output", Int("transB", 1));
        if (head == Head.Softmax) g.Node("Softmax", new[] { logits }, "output", Int("axis", 1));
        g.Output("output", batch, outputs);
        if (exportActivations) g.Output(TargetLayer, batch, Channels, Size / 4, Size / 4);
        return g;
    }

    /// <summary>Black image with a red square at (x0, y0) and a green one at (x1, y1), each <paramref name="side"/> pixels.</summary>
    public static ImageTensor TwoSquares(int x0 = 4, int y0 = 4, int x1 = 20, int y1 = 16, int side = 8)
    {
        int plane = Size * Size;
        var data = new float[3 * plane];
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                data[(y0 + y) * Size + x0 + x] = 1f;
                data[plane + (y1 + y) * Size + x1 + x] = 1f;
            }
        return new ImageTensor(data, 3, Size, Size);
    }
}
