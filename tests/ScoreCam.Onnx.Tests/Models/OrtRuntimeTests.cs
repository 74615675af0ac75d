using System.Diagnostics;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>
/// What a user sees on the real process's stderr (ONNX Runtime writes its log to the native stderr, which an
/// in-process test cannot capture), through the built `scorecam` next to the tests.
/// </summary>
public class OrtRuntimeTests
{
    [Test]
    public void A_model_that_fails_inside_onnx_runtime_gives_our_one_line_and_none_of_its_log_lines()
    {
        using var folder = new TempFolder();
        var g = new OnnxGraphBuilder();
        string conv = g.Node("Conv", new[] { g.Input("input", 1, 3, 8, 8), g.Weights("w", new float[4 * 3 * 3 * 3], 4, 3, 3, 3) }, "conv");
        g.Node("Reshape", new[] { conv, g.Int64s("shape", 1, 100) }, "output");
        g.Output("output", 1, 100);
        string model = g.Save(folder.File("bad-reshape.onnx"));

        var (code, stderr) = Scorecam(AppContext.BaseDirectory, "layers", "--model", model);
        code.Should().Be(1);
        stderr.Should().StartWith("error: ONNX Runtime could not run the model").And.Contain("Reshape node").And.Contain("requested shape:{1,100}");
        stderr.TrimEnd().Split('\n').Should().ContainSingle("ONNX Runtime's own log line and source paths stay out: {0}", stderr);
        stderr.Should().NotContain("onnxruntime_src").And.NotContain("\u001b[");
    }

    [Test]
    public void Without_a_native_runtime_package_the_error_names_the_packages_to_add()
    {
        using var folder = new TempFolder();
        // The CLI's managed assemblies alone: no runtimes/ folder, so no native libonnxruntime.
        foreach (string file in Directory.GetFiles(AppContext.BaseDirectory).Where(f => f.EndsWith(".dll") || f.EndsWith(".json")))
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        string model = TestModels.ColouredSquares().Save(folder.File("m.onnx"));

        var (code, stderr) = Scorecam(folder.Path, "layers", "--model", model);
        code.Should().Be(1);
        stderr.Should().StartWith("error: The native ONNX Runtime library is not installed")
            .And.Contain("Microsoft.ML.OnnxRuntime (CPU) or Microsoft.ML.OnnxRuntime.Gpu (CUDA)");
        stderr.TrimEnd().Split('\n').Should().ContainSingle();
    }

    private static (int Code, string Stderr) Scorecam(string folder, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add(Path.Combine(folder, "scorecam.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit(60_000).Should().BeTrue("the command must not hang");
        _ = stdout.Result;
        return (process.ExitCode, stderr);
    }
}
