using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Models;

public class ForwardPassCostTests
{
    [Test]
    public void A_forward_pass_counts_two_operations_per_multiply_add_of_conv_and_gemm()
    {
        // Conv 3→4 channels, 4×4 kernel, stride 4 on 32×32: 4 × 8 × 8 outputs of 3 × 4 × 4 products each;
        // Gemm 4 → 3: 3 outputs of 4 products. Pooling, Relu and biases are not counted.
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        ForwardPassCost.Flops(model, 32, 32).Should().Be(2 * (4 * 8 * 8 * 3 * 4 * 4 + 3 * 4));
    }

    [Test]
    public void Padded_strided_and_grouped_convolutions_batched_matmuls_and_gemm_are_counted_by_hand()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 16, 16);
        string a = g.Node("Conv", new[] { x, g.Weights("a.w", new float[6 * 3 * 3 * 3], 6, 3, 3, 3) }, "a", Ints("pads", 1, 1, 1, 1));
        string b = g.Node("Conv", new[] { a, g.Weights("b.w", new float[6 * 2 * 3 * 3], 6, 2, 3, 3) }, "b",
            Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2), Int("group", 3));
        string features = g.Node("Relu", new[] { b }, "features");
        string rows = g.Node("MatMul", new[] { features, g.Weights("rows.w", new float[8 * 4], 8, 4) }, "rows");
        string pooled = g.Node("GlobalAveragePool", new[] { rows }, "pooled");
        string flat = g.Node("Flatten", new[] { pooled }, "flat");
        string hidden = g.Node("MatMul", new[] { flat, g.Weights("hidden.w", new float[6 * 5], 6, 5) }, "hidden");
        g.Node("Gemm", new[] { hidden, g.Weights("fc.w", new float[3 * 5], 3, 5) }, "output", Int("transB", 1));
        g.Output("output", null, 3);
        PreparedModel model = ModelPreparer.Prepare(g.Build(), "hand-count", new ModelPreparationOptions { Layer = "features" });

        long conv = 6 * 16 * 16 * (3 * 3 * 3);      // 3→6, 3×3, padding 1 keeps 16×16: 27 products per output
        long grouped = 6 * 8 * 8 * (2 * 3 * 3);     // 6→6 in 3 groups (2 inputs each), stride 2: 8×8 outputs of 18 products
        long batchedMatMul = 6 * 8 * 4 * 8;         // [1,6,8,8] × [8,4]: 6×8×4 outputs of 8 products
        long matMul = 5 * 6, gemm = 3 * 5;           // [1,6] × [6,5]; [1,5] × [3,5]ᵀ
        ForwardPassCost.Flops(model, 16, 16).Should().Be(2 * (conv + grouped + batchedMatMul + matMul + gemm));
    }
}
