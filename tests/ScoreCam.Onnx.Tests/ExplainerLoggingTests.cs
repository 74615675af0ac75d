using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests;

/// <summary>The explainer's warnings and diagnostics reach the logger it is given, and the command line shows the warnings as before.</summary>
public class ExplainerLoggingTests
{
    [Test]
    public void A_cuda_fallback_is_one_warning_and_each_explanation_one_debug_entry_with_its_passes_and_skipped_channels()
    {
        if (File.Exists("/dev/nvidia0")) Assert.Ignore("A GPU is present; the fallback cannot be exercised here.");
        var logger = new RecordingLogger();
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        using var explainer = new CamExplainer(model, new ExplainerOptions { Inference = new InferenceOptions { Device = ExecutionDevice.Cuda }, Logger = logger });

        logger.Entries.Should().ContainSingle().Which.Should().Match<(LogLevel Level, int EventId, string Message)>(
            e => e.Level == LogLevel.Warning && e.Message == explainer.Session.Warnings.Single());
        Explanation e = explainer.Explain(TestModels.TwoSquares());
        var debug = logger.Entries.Skip(1).Should().ContainSingle().Subject;
        debug.Level.Should().Be(LogLevel.Debug);
        debug.Message.Should().StartWith($"scorecam explained {e.Target.Name}: {e.ForwardPasses} forward passes, {e.SkippedChannels} channels skipped");
    }

    [Test]
    public void A_gradient_session_that_falls_back_to_cpu_logs_its_warning_when_it_is_created()
    {
        if (File.Exists("/dev/nvidia0")) Assert.Ignore("A GPU is present; the fallback cannot be exercised here.");
        var logger = new RecordingLogger();
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        using var sessions = new GradientSessions(model, new InferenceOptions { Device = ExecutionDevice.Cuda }, logger);
        logger.Entries.Should().BeEmpty("sessions are created on first use");

        GradientSession head = sessions.Head;

        head.Warnings.Should().ContainSingle().Which.Should().StartWith("CUDA is not available");
        logger.Entries.Should().ContainSingle().Which.Should().Match<(LogLevel Level, int EventId, string Message)>(
            e => e.Level == LogLevel.Warning && e.Message == head.Warnings.Single());
    }

    [Test]
    public void Nothing_is_logged_by_default_and_the_command_line_prints_warnings_once()
    {
        new ExplainerOptions().Logger.IsEnabled(LogLevel.Critical).Should().BeFalse();
        if (File.Exists("/dev/nvidia0")) Assert.Ignore("A GPU is present; the fallback cannot be exercised here.");
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("squares.onnx"));
        var error = new StringWriter();
        CliApp.Run(new[] { "explain", "--model", model, "--tensor", Npy(folder), "--device", "cuda", "--json", folder.File("r.json") }, new StringWriter(), error)
            .Should().Be(CliApp.Ok);
        error.ToString().Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("warning: CUDA is not available");
    }

    private static string Npy(TempFolder folder)
    {
        string path = folder.File("x.npy");
        ScoreCam.Onnx.Imaging.NpyFile.Write(path, TestModels.TwoSquares().Data, 1, 3, TestModels.Size, TestModels.Size);
        return path;
    }
}
