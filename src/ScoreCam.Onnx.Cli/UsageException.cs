namespace ScoreCam.Onnx.Cli;

/// <summary>The command line itself is wrong (exit code 2), as opposed to its inputs (exit code 1).</summary>
internal sealed class UsageException(string message) : Exception(message);
