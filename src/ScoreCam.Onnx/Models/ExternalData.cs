using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Weights kept in files beside the model (ONNX external data, how models over 2 GB ship). The model reaches
/// ONNX Runtime as bytes, so ONNX Runtime is told the model file's folder and resolves each file there, refusing
/// absolute and escaping paths itself; the same rules are checked here first so that the error names the tensor.
/// </summary>
internal static class ExternalData
{
    /// <summary>
    /// The folder the external data of <paramref name="model"/> is read from: the folder of <paramref name="modelPath"/>,
    /// or null when every weight is inside the model. Throws when a file is missing, too short, or outside that folder.
    /// </summary>
    public static string? Folder(ModelProto model, string? modelPath, string source)
    {
        var external = Tensors(model.Graph).Where(t => t.DataLocation == TensorProto.Types.DataLocation.External).ToList();
        if (external.Count == 0) return null;
        if (modelPath is null)
            throw new ScoreCamException(
                $"Model '{source}' keeps its weights in external data files (tensor '{external[0].Name}' in '{Location(external[0])}'); " +
                "load it from its file path so that those files are found beside it.");

        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        string inside = Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar;
        foreach (TensorProto tensor in external)
        {
            string location = Location(tensor);
            string where = $"Tensor '{tensor.Name}' of model '{source}'";
            if (location.Length == 0)
                throw new ScoreCamException($"{where} is marked as external data but names no file; the model is corrupt, export it again.");
            if (Path.IsPathRooted(location))
                throw new ScoreCamException(
                    $"{where} reads its weights from the absolute path '{location}'; external data must be a path relative to the model's folder. " +
                    "Save the model again with its data beside it (onnx.save_model(..., save_as_external_data=True)).");
            string file = Path.GetFullPath(Path.Combine(folder, location));
            if (!file.StartsWith(inside, StringComparison.Ordinal))
                throw new ScoreCamException(
                    $"{where} reads its weights from '{location}', outside the model's folder '{folder}'; external data must stay in that folder or below it.");
            if (!File.Exists(file))
                throw new ScoreCamException(
                    $"{where} keeps its weights in '{location}', which is missing from '{folder}'. Copy the model's external data file(s) next to the model.");
            long offset = Entry(tensor, "offset") ?? 0, length = Entry(tensor, "length") ?? 0;
            long available = new FileInfo(file).Length;
            if (offset < 0 || length < 0 || offset + length > available)
                throw new ScoreCamException(
                    $"{where} needs bytes {offset}..{offset + length} of '{location}', which holds {available} bytes; the data file is truncated or belongs to another model.");
        }
        return folder;
    }

    /// <summary>Initializers and constant attributes, in subgraphs too: each may keep its data outside the model.</summary>
    private static IEnumerable<TensorProto> Tensors(GraphProto graph) =>
        GraphIndex.WithSubgraphs(graph).SelectMany(g => g.Initializer.Concat(
            g.Node.SelectMany(n => n.Attribute).SelectMany(a => a.T is null ? a.Tensors : a.Tensors.Prepend(a.T))));

    private static string Location(TensorProto tensor) =>
        tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value ?? "";

    private static long? Entry(TensorProto tensor, string key) =>
        long.TryParse(tensor.ExternalData.FirstOrDefault(e => e.Key == key)?.Value, out long v) ? v : null;
}
