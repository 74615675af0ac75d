using System.CommandLine;
using ScoreCam.Onnx.Cli.Commands;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Cli;

/// <summary>The <c>scorecam</c> command. Exit codes: 0 success, 1 bad input (a file, a class, an image), 2 bad usage.</summary>
public static class CliApp
{
    public const int Ok = 0, InputError = 1, UsageError = 2;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Explain image-classifier predictions with Score-CAM on ONNX Runtime.")
        {
            ExplainCommand.Create(output, error),
            PrepareCommand.Create(output, error),
            LayersCommand.Create(output, error),
            BenchCommand.Create(output, error),
            EvaluateCommand.Create(output, error),
            ServeCommand.Create(output, error),
        };
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine("Run `scorecam --help` (or `scorecam COMMAND --help`) for usage.");
            return UsageError;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    /// <summary>Runs a command body, turning the errors a user can cause into one line and an exit code.</summary>
    internal static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (ScoreCamException e)
        {
            error.WriteLine($"error: {e.Message}");
            return InputError;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("error: cancelled.");
            return InputError;
        }
    }
}
