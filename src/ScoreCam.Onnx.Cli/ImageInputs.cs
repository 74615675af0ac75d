using System.IO.Enumeration;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The pictures named on the command line, checked before any is explained: a file as it is (it must exist); a folder: the pictures in it (not below it); a glob with
/// <c>*</c>, <c>?</c> (within one name) and <c>**</c> (any depth of folders), expanded here rather than by the shell so
/// that a quoted pattern works the same everywhere. Folders and globs keep picture files only (by extension) and list
/// them in ordinal order; a name seen twice is kept once.
/// </summary>
internal static class ImageInputs
{
    public static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".tif", ".tiff", ".webp", ".pbm" };

    /// <summary>True when <paramref name="value"/> names a folder or a glob, i.e. possibly several pictures.</summary>
    public static bool NamesSeveral(string value) => IsGlob(value) || Directory.Exists(value);

    public static List<string> Expand(IEnumerable<string> values)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string value in values)
        {
            IEnumerable<string> found = IsGlob(value) ? Glob(value)
                : Directory.Exists(value) ? Pictures(Directory.EnumerateFiles(value))
                : File.Exists(value) ? new[] { value }
                : throw new ScoreCamException($"Image file '{value}' does not exist.");
            int count = 0;
            foreach (string file in found)
            {
                count++;
                if (seen.Add(Path.GetFullPath(file))) files.Add(file);
            }
            if (count == 0)
                throw new ScoreCamException(IsGlob(value)
                    ? $"No picture matches '{value}' ({string.Join(", ", Extensions)})."
                    : $"Folder '{value}' holds no pictures ({string.Join(", ", Extensions)}).");
        }
        return files;
    }

    private static bool IsGlob(string value) => value.AsSpan().IndexOfAny('*', '?') >= 0;

    private static IEnumerable<string> Pictures(IEnumerable<string> files) =>
        files.Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);

    private static IEnumerable<string> Glob(string pattern)
    {
        string[] parts = pattern.Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar });
        if (parts[^1] == "**") parts = [.. parts, "*"];
        int literal = Array.FindIndex(parts, IsGlob);
        // The part before the first wildcard is the folder to start from, written as the user wrote it.
        string root = string.Join(Path.DirectorySeparatorChar, parts[..literal]);
        if (literal > 0 && root.Length == 0) root = Path.DirectorySeparatorChar.ToString();
        if (root.Length == 0) root = ".";
        if (!Directory.Exists(root)) return Array.Empty<string>();
        var matches = new List<string>();
        Match(root, parts[literal..], matches);
        return Pictures(matches);
    }

    private static void Match(string folder, string[] parts, List<string> matches)
    {
        string head = parts[0];
        string Join(string name) => folder == "." ? name : Path.Combine(folder, name);
        if (head == "**")
        {
            // Zero folders, then one more folder and "**" again.
            if (parts.Length > 1) Match(folder, parts[1..], matches);
            foreach (string sub in Directory.EnumerateDirectories(folder))
                Match(Join(Path.GetFileName(sub)), parts, matches);
            return;
        }
        bool ignoreCase = !OperatingSystem.IsLinux();
        if (parts.Length == 1)
        {
            foreach (string file in Directory.EnumerateFiles(folder))
                if (FileSystemName.MatchesSimpleExpression(head, Path.GetFileName(file), ignoreCase)) matches.Add(Join(Path.GetFileName(file)));
            return;
        }
        foreach (string sub in Directory.EnumerateDirectories(folder))
            if (FileSystemName.MatchesSimpleExpression(head, Path.GetFileName(sub), ignoreCase)) Match(Join(Path.GetFileName(sub)), parts[1..], matches);
    }
}
