using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Cli.Terminal;

/// <summary>
/// The library's log as the command line shows it: warnings and errors, one line each (<c>warning: ...</c>), options
/// named by their flags; diagnostics below that level are dropped. A command that explains many pictures tallies its explanations' warnings instead
/// (<paramref name="tally"/>): each distinct one is shown once, when the logger is disposed, with how many of the
/// explanations gave it (<c>warning (12 of 400 explanations): ...</c>).
/// </summary>
internal sealed class WarningLogger(Action<string> writeLine, bool tally = false) : ILogger, IDisposable
{
    private readonly OrderedDictionary<string, int> _tallied = new();
    private int _explanations;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    // A tally counts the explanations by their diagnostic event, which is never shown.
    public bool IsEnabled(LogLevel logLevel) => IsShown(logLevel) || tally && logLevel == LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (tally && eventId.Id is ExplainerLog.ExplainedEvent or ExplainerLog.MapWarningEvent)
        {
            lock (_tallied)
                if (eventId.Id == ExplainerLog.ExplainedEvent) _explanations++;
                else _tallied[formatter(state, exception)] = _tallied.GetValueOrDefault(formatter(state, exception)) + 1;
        }
        else if (IsShown(logLevel)) writeLine($"{(logLevel == LogLevel.Warning ? "warning" : "error")}: {LibraryTerms.Rephrase(formatter(state, exception))}");
    }

    /// <summary>Shows the tallied warnings in the order they first came (a lone explanation's as it would be shown untallied).</summary>
    public void Dispose()
    {
        lock (_tallied)
        {
            foreach (var (warning, count) in _tallied)
                writeLine(_explanations == 1 ? $"warning: {LibraryTerms.Rephrase(warning)}" : $"warning ({count} of {_explanations} explanations): {LibraryTerms.Rephrase(warning)}");
            _tallied.Clear();
        }
    }

    private static bool IsShown(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;
}
