using Onnx;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// The arithmetic of one forward pass, counted from the graph: 2 × multiply-adds of every Conv, Gemm and MatMul (the
/// ops that hold nearly all of a CNN's work; element-wise ops, pooling and biases are left out), at one input of the
/// given size. Shapes come from ONNX Runtime (one probe pass), not from the graph's annotations.
/// </summary>
internal static class ForwardPassCost
{
    public static long Flops(PreparedModel model, int height, int width)
    {
        GraphProto graph = model.Proto.Graph;
        var nodes = graph.Node.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Input.Count >= 2).ToList();
        if (nodes.Count == 0) return 0;
        var tensors = nodes.SelectMany(n => new[] { n.Input[0], n.Output[0] }).Distinct().ToList();
        int batch = model.FixedBatchSize ?? 1;
        var shapes = TensorShapeProbe.Run(model.Proto, model.Input.Name, new long[] { batch, model.Input.Channels, height, width }, tensors,
            model.ExternalDataFolder, model.FedInputs);
        var weights = graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray(), StringComparer.Ordinal);
        long flops = 0;
        foreach (NodeProto node in nodes)
        {
            long[] input = shapes[node.Input[0]], output = shapes[node.Output[0]];
            long outputs = output.Aggregate(1L, (a, d) => a * d);
            long perOutput = node.OpType switch
            {
                // Each output element sums (C_in / group) × kernel products.
                "Conv" => weights.TryGetValue(node.Input[1], out long[]? w) ? w.Skip(1).Aggregate(1L, (a, d) => a * d) : 0,
                "Gemm" => node.Attribute.FirstOrDefault(a => a.Name == "transA")?.I == 1 ? input[0] : input[^1],
                _ => input[^1],
            };
            flops += 2 * outputs * perOutput;
        }
        return flops / batch;
    }
}
