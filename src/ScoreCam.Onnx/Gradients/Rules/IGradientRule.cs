using Onnx;

namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>
/// The reverse-mode rule of one ONNX op type: given the gradients of a node's outputs (read from the
/// <see cref="GradientEmitter"/>), it emits the ONNX nodes that compute the gradients of the node's inputs and
/// hands them back with <see cref="GradientEmitter.Accumulate"/>. Rules are stateless.
/// </summary>
internal interface IGradientRule
{
    /// <summary>The ONNX op type the rule differentiates (default domain).</summary>
    string OpType { get; }

    void Emit(NodeProto node, GradientEmitter e);
}
