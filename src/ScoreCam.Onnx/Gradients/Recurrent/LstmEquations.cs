using Onnx;

namespace ScoreCam.Onnx.Gradients.Recurrent;

/// <summary>
/// The ONNX LSTM, gates i, o, f, c in that order (peepholes P: i, o, f):
/// i_t = σ(X_t Wi^T + H_{t−1} Ri^T + Pi ⊙ C_{t−1} + Wbi + Rbi), f_t = σ(X_t Wf^T + H_{t−1} Rf^T + Pf ⊙ C_{t−1} + Wbf + Rbf),
/// c_t = tanh(X_t Wc^T + H_{t−1} Rc^T + Wbc + Rbc), C_t = f_t ⊙ C_{t−1} + i_t ⊙ c_t,
/// o_t = σ(X_t Wo^T + H_{t−1} Ro^T + Po ⊙ C_t + Wbo + Rbo), H_t = o_t ⊙ tanh(C_t).
/// </summary>
internal static class LstmEquations
{
    private const int I = 0, O = 1, F = 2, C = 3, PeepholeI = 0, PeepholeO = 1, PeepholeF = 2;

    public static List<NodeProto> Emit(RecurrentEquations eq, int steps)
    {
        string[] w = eq.GateWeights(1, 4), r = eq.GateWeights(2, 4);
        string[]? b = eq.GateBiases(3, 4);
        string?[] bias = Enumerable.Range(0, 4).Select(g => b is null ? null : eq.Op("Add", b[g], b[g + 4])).ToArray();
        // Peepholes [1, 3H]: i, o, f.
        string[]? p = eq.Input(7).Length > 0 ? eq.Split(eq.Op("Squeeze", eq.Input(7), eq.Axis0), 0, new[] { eq.Hidden, eq.Hidden, eq.Hidden }) : null;
        string[] xs = eq.Steps(steps);
        string h = eq.InitialState(5, xs[0], w[I]), cell = eq.InitialState(6, xs[0], w[I]);
        string Peephole(string x, int gate, string c) => p is null ? x : eq.Op("Add", x, eq.Op("Mul", p[gate], c));
        var states = new List<string>();
        foreach (string x in xs)
        {
            string input = eq.Op("Sigmoid", Peephole(eq.Affine(x, w[I], h, r[I], bias[I]), PeepholeI, cell));
            string forget = eq.Op("Sigmoid", Peephole(eq.Affine(x, w[F], h, r[F], bias[F]), PeepholeF, cell));
            string candidate = eq.Op("Tanh", eq.Affine(x, w[C], h, r[C], bias[C]));
            cell = eq.Op("Add", eq.Op("Mul", forget, cell), eq.Op("Mul", input, candidate));
            string output = eq.Op("Sigmoid", Peephole(eq.Affine(x, w[O], h, r[O], bias[O]), PeepholeO, cell));
            h = eq.Op("Mul", output, eq.Op("Tanh", cell));
            states.Add(h);
        }
        eq.Outputs(states, cell);
        return eq.Nodes;
    }
}
