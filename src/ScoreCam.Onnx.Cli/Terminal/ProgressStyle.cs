namespace ScoreCam.Onnx.Cli.Terminal;

/// <summary>How a <see cref="ProgressDisplay"/> shows progress.</summary>
internal enum ProgressStyle
{
    /// <summary>Nothing (<c>--quiet</c>).</summary>
    None,
    /// <summary>A plain line now and then: stderr is redirected to a file or a pipe.</summary>
    Lines,
    /// <summary>One line redrawn in place: stderr is a terminal.</summary>
    Bar,
}
