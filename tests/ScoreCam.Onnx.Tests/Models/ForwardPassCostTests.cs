using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

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
}
