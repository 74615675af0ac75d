using System.CommandLine;
using ScoreCam.Onnx.Cli.Commands;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The <c>scorecam</c> command. Every failure is one line on stderr and an exit code: 0 success, 1 bad input (a file,
/// a class, an image, a model the library refuses), 2 bad usage (an option or its value), 3 an internal error (a bug:
/// the line names the exception type and asks for a report). No stack trace is ever printed.
/// </summary>
public static class CliApp
{
    public const int Ok = 0, InputError = 1, UsageError = 2, InternalError = 3;

    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation = default) => Guard(error, () =>
    {
        ParseResult parsed = Root(output, error, cancellation).Parse(args);
        // Help is shown even when the command line is incomplete (a required option missing).
        if (parsed.Errors.Count > 0 && !Terminal.GroupedHelp.Asked(parsed))
            throw new UsageException(string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.'))) + DidYouMean(parsed) +
                ". Run `scorecam --help` (or `scorecam COMMAND --help`) for usage.");
        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    });

    /// <summary>Every command, to parse a command line without running it (the tests check the documented ones).</summary>
    internal static RootCommand Root(TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        var root = new RootCommand("Explain image-classifier predictions with Score-CAM on ONNX Runtime.")
        {
            ExplainCommand.Create(output, error, cancellation),
            PrepareCommand.Create(output, error),
            LayersCommand.Create(output, error),
            BenchCommand.Create(output, error),
            EvaluateCommand.Create(output, error),
            ServeCommand.Create(output, error),
            ReportCommand.Create(output, error),
            ExperimentCommand.Create(output, error),
            SchemaCommand.Create(output, error),
            WorkerCommand.Create(output, error, cancellation),
            SubmitCommand.Create(output, error, cancellation),
        };
        Terminal.GroupedHelp.Install(root);
        return root;
    }

    /// <summary>" (did you mean --model?)" for a mistyped option or command, from the command's own names.</summary>
    private static string DidYouMean(ParseResult parsed)
    {
        Command command = parsed.CommandResult.Command;
        var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).Concat(command.Subcommands.Select(c => c.Name)).ToList();
        var hints = parsed.UnmatchedTokens.Select(t => (Token: t, Closest: Suggestion.Closest(t, names))).Where(h => h.Closest is not null)
            .Select(h => $"'{h.Token}': did you mean {h.Closest}?").ToList();
        return hints.Count > 0 ? $" ({string.Join("; ", hints)})" : "";
    }

    /// <summary>Runs a command body, turning every exception into one line on <paramref name="error"/> and an exit code.</summary>
    internal static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            var (code, message) = e switch
            {
                UsageException => (UsageError, e.Message),
                ScoreCamException => (InputError, e.Message),
                OperationCanceledException => (InputError, "cancelled; the explanation in progress was not written."),
                IOException or UnauthorizedAccessException => (InputError, e.Message),
                OutOfMemoryException => (InputError, "out of memory; try a smaller --batch or --size, or a smaller image."),
                _ => (InternalError, $"internal error ({e.GetType().Name}: {e.Message}). Please report it with the command line that caused it."),
            };
            error.WriteLine($"error: {OneLine(LibraryTerms.Rephrase(message))}");
            return code;
        }
    }

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
