using ScoreCam.Onnx.Cli;

namespace ScoreCam.Onnx.Tests.Support;

/// <summary>Runs the real `scorecam` command in process and captures its exit code and streams.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
