using Microsoft.Extensions.Logging;

namespace ScoreCam.Onnx.Cli.Terminal;

/// <summary>The library's log as the command line shows it: warnings and errors, one line each (<c>warning: ...</c>), options named by their flags; diagnostics below that level are dropped.</summary>
internal sealed class WarningLogger(Action<string> writeLine) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) writeLine($"{(logLevel == LogLevel.Warning ? "warning" : "error")}: {LibraryTerms.Rephrase(formatter(state, exception))}");
    }
}
