namespace ScoreCam.Onnx.Core;

/// <summary>
/// Writes files so that a reader never sees half of one: a temporary file in the same folder, then a rename.
/// Missing parent folders are created; a path naming a folder, or one that cannot be written, is refused.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    public static void Write(string path, Action<Stream> write)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ScoreCamException($"Cannot write '{path}': it is not a valid file path ({e.Message.TrimEnd('.')}).", e);
        }
        if (Directory.Exists(full)) throw new ScoreCamException($"Cannot write '{path}': it is a folder. Name a file inside it instead.");
        string? folder = Path.GetDirectoryName(full);
        string temp = full + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                write(stream);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(temp); } catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { }
            if (e is IOException or UnauthorizedAccessException)
                throw new ScoreCamException($"Cannot write '{path}': {e.Message}", e);
            throw;
        }
    }
}
