using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Refuses nodes from custom operator domains before ONNX Runtime is asked to run them: it can only with the
/// domain's custom-op library registered, which this library does not do, and its own error does not say so.
/// </summary>
internal static class OperatorDomains
{
    // The standard ONNX domains and ONNX Runtime's built-in contrib ops.
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal) { "", "ai.onnx", "ai.onnx.ml", "com.microsoft" };

    public static void Check(ModelProto model, string source)
    {
        // Model-local functions define their own domains; calling them is standard ONNX.
        var functions = model.Functions.Select(f => f.Domain).ToHashSet(StringComparer.Ordinal);
        NodeProto? custom = GraphIndex.WithSubgraphs(model.Graph).SelectMany(g => g.Node).FirstOrDefault(n => !Known.Contains(n.Domain) && !functions.Contains(n.Domain));
        if (custom is not null)
            throw new ScoreCamException(
                $"Node '{custom.Name}' of model '{source}' is the custom operator '{custom.OpType}' from domain '{custom.Domain}', which ONNX Runtime " +
                "runs only with that domain's custom-op library, and ScoreCam.Onnx loads none. Re-export the model with standard ONNX operators.");
    }
}
