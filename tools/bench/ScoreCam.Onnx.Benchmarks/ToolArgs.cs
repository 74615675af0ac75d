namespace ScoreCam.Onnx.Benchmarks;

/// <summary>What the hand-parsed tool commands (fidelity, gpu) share: option parsing and medians.</summary>
internal static class ToolArgs
{
    /// <summary>Removes <c>NAME VALUE</c> from the arguments and returns the value, or null when absent.</summary>
    public static string? Option(ref string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0 || at + 1 >= args.Length) return null;
        string value = args[at + 1];
        args = args[..at].Concat(args[(at + 2)..]).ToArray();
        return value;
    }

    public static double Median(List<double> values)
    {
        var s = values.OrderBy(v => v).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
