namespace ScoreCam.Onnx.Models;

/// <summary>
/// A feature map in the graph that could serve as the target layer (convolutional maps, channels-last maps or
/// normalised tokens); listed by <c>scorecam layers</c>. <see cref="Shape"/> is the tensor's own; <see cref="MapShape"/>
/// the K×h×w maps the methods see.
/// </summary>
public sealed record LayerCandidate(string TensorName, string NodeName, string OpType, IReadOnlyList<long> Shape, bool IsAutomaticChoice)
{
    /// <summary>How the tensor holds its maps.</summary>
    public LayerLayout Layout { get; init; } = LayerLayout.ChannelsFirst;

    /// <summary>Tokens before the patch grid (class, distillation); 0 for maps.</summary>
    public int PrefixTokens { get; init; }

    /// <summary>The maps as the methods see them: channels K, height h, width w.</summary>
    public IReadOnlyList<long> MapShape { get; init; } = Array.Empty<long>();

    internal TargetLayer ToTargetLayer() =>
        new(TensorName, NodeName, OpType, (int)MapShape[0], (int)MapShape[1], (int)MapShape[2]) { Layout = Layout, PrefixTokens = PrefixTokens };

    internal static LayerCandidate Of(TargetLayer layer, IReadOnlyList<long> shape) =>
        new(layer.TensorName, layer.NodeName ?? "", layer.OpType ?? "", shape, false)
        {
            Layout = layer.Layout, PrefixTokens = layer.PrefixTokens, MapShape = new long[] { layer.Channels, layer.Height, layer.Width },
        };
}
