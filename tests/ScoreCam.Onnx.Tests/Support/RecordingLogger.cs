using Microsoft.Extensions.Logging;

namespace ScoreCam.Onnx.Tests.Support;

/// <summary>Keeps every log entry: level, event id and formatted message.</summary>
internal sealed class RecordingLogger : ILogger
{
    public List<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries) Entries.Add((logLevel, eventId.Id, formatter(state, exception)));
    }
}
