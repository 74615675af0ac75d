namespace ScoreCam.Onnx.Tests.Support;

/// <summary>Paths into the repository (committed models and data), found from the test assembly's folder.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine(new[] { Root }.Concat(parts).ToArray());

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "ScoreCam.Onnx.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (ScoreCam.Onnx.sln) above the test folder.");
    }
}
