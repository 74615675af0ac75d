using ScoreCam.Onnx.Core;
namespace ScoreCam.Onnx.Imaging;

/// <summary>Class labels, one per line in class-index order (blank trailing lines ignored).</summary>
public static class LabelsFile
{
    public static IReadOnlyList<string> Read(string path)
    {
        if (!File.Exists(path)) throw new ScoreCamException($"Labels file '{path}' does not exist.");
        List<string> lines;
        try { lines = File.ReadAllLines(path).Select(l => l.Trim()).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScoreCamException($"Labels file '{path}' cannot be read: {e.Message}", e);
        }
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0) throw new ScoreCamException($"Labels file '{path}' is empty; it needs one label per line.");
        return lines;
    }

    /// <summary>Reads the labels of a model with <paramref name="classCount"/> classes, refusing a file of another length.</summary>
    public static IReadOnlyList<string> Read(string path, int classCount)
    {
        IReadOnlyList<string> labels = Read(path);
        CheckCount(labels, classCount, $"Labels file '{path}'");
        return labels;
    }

    /// <summary>
    /// Refuses labels that do not name every class exactly once: a shorter or longer list means the file belongs to
    /// another model (or is off by a header line), and every label shown would be wrong.
    /// </summary>
    public static void CheckCount(IReadOnlyList<string> labels, int classCount, string source = "The labels")
    {
        if (labels.Count != classCount)
            throw new ScoreCamException(
                $"{source} has {labels.Count} label{(labels.Count == 1 ? "" : "s")} but the model has {classCount} classes; " +
                "give one label per class, one per line in class-index order.");
    }
}
