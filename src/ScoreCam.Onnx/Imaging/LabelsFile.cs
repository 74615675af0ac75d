using ScoreCam.Onnx.Core;
namespace ScoreCam.Onnx.Imaging;

/// <summary>Class labels, one per line in class-index order (blank trailing lines ignored).</summary>
public static class LabelsFile
{
    public static IReadOnlyList<string> Read(string path)
    {
        if (!File.Exists(path)) throw new ScoreCamException($"Labels file '{path}' does not exist.");
        var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0) throw new ScoreCamException($"Labels file '{path}' is empty; it needs one label per line.");
        return lines;
    }
}
