using Onnx;

namespace ScoreCam.Onnx.Gradients.Recurrent;

/// <summary>The ONNX RNN: H_t = tanh(X_t Wi^T + H_{t−1} Ri^T + Wbi + Rbi).</summary>
internal static class RnnEquations
{
    public static List<NodeProto> Emit(RecurrentEquations eq, int steps)
    {
        string w = eq.GateWeights(1, 1)[0], r = eq.GateWeights(2, 1)[0];
        string[]? b = eq.GateBiases(3, 1);
        string[] xs = eq.Steps(steps);
        string h = eq.InitialState(5, xs[0], w);
        var states = new List<string>();
        foreach (string x in xs)
        {
            h = eq.Op("Tanh", eq.Affine(x, w, h, r, b?[0], b?[1]));
            states.Add(h);
        }
        eq.Outputs(states);
        return eq.Nodes;
    }
}
