using Onnx;

namespace ScoreCam.Onnx.Gradients.Recurrent;

/// <summary>
/// The ONNX GRU, gates z, r, h in that order: z_t = σ(X_t Wz^T + H_{t−1} Rz^T + Wbz + Rbz),
/// r_t = σ(X_t Wr^T + H_{t−1} Rr^T + Wbr + Rbr), h_t = tanh(X_t Wh^T + r_t ⊙ (H_{t−1} Rh^T + Rbh) + Wbh) with
/// linear_before_reset (PyTorch's export), else h_t = tanh(X_t Wh^T + (r_t ⊙ H_{t−1}) Rh^T + Rbh + Wbh);
/// H_t = (1 − z_t) ⊙ h_t + z_t ⊙ H_{t−1}.
/// </summary>
internal static class GruEquations
{
    public static List<NodeProto> Emit(RecurrentEquations eq, int steps)
    {
        bool linearBeforeReset = Rules.Attr.GetInt(eq.Node, "linear_before_reset", 0) != 0;
        string[] w = eq.GateWeights(1, 3), r = eq.GateWeights(2, 3);
        string[]? b = eq.GateBiases(3, 3);
        string? bz = b is null ? null : eq.Op("Add", b[0], b[3]), br = b is null ? null : eq.Op("Add", b[1], b[4]);
        string? bh = b is null || linearBeforeReset ? null : eq.Op("Add", b[2], b[5]);
        string[] xs = eq.Steps(steps);
        string h = eq.InitialState(5, xs[0], w[0]);
        string one = eq.Constant(1f);
        var states = new List<string>();
        foreach (string x in xs)
        {
            string z = eq.Op("Sigmoid", eq.Affine(x, w[0], h, r[0], bz));
            string reset = eq.Op("Sigmoid", eq.Affine(x, w[1], h, r[1], br));
            string candidate = linearBeforeReset
                ? eq.Op("Tanh", eq.Bias(eq.Op("Add", eq.Op("MatMul", x, w[2]), eq.Op("Mul", reset, eq.Bias(eq.Op("MatMul", h, r[2]), b?[5]))), b?[2]))
                : eq.Op("Tanh", eq.Bias(eq.Op("Add", eq.Op("MatMul", x, w[2]), eq.Op("MatMul", eq.Op("Mul", reset, h), r[2])), bh));
            h = eq.Op("Add", eq.Op("Mul", eq.Op("Sub", one, z), candidate), eq.Op("Mul", z, h));
            states.Add(h);
        }
        eq.Outputs(states);
        return eq.Nodes;
    }
}
