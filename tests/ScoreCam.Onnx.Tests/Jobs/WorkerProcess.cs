using System.Diagnostics;

namespace ScoreCam.Onnx.Tests.Jobs;

/// <summary>
/// A `scorecam worker` in its own process (the built CLI beside the tests), so that killing it is a real SIGKILL;
/// its output lines are kept, and an optional callback sees each line as it comes.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();
    private readonly Action<WorkerProcess, string>? _onLine;

    private WorkerProcess(string url, string[] arguments, Action<WorkerProcess, string>? onLine)
    {
        _onLine = onLine;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(TestContext.CurrentContext.TestDirectory, "scorecam.dll"), "worker", "--nats", url }.Concat(arguments))
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data is null ? null : "stderr: " + e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts a worker and waits (bounded) until it says it waits for items.</summary>
    public static WorkerProcess Start(string url, string[] arguments, Action<WorkerProcess, string>? onLine = null)
    {
        var worker = new WorkerProcess(url, arguments, onLine);
        if (!worker.WaitFor(l => l.StartsWith("worker: waiting for items", StringComparison.Ordinal), TimeSpan.FromSeconds(60)))
            Assert.Fail($"the worker did not start within 60 s:\n{string.Join('\n', worker.Lines)}");
        return worker;
    }

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToList(); }
    }

    /// <summary>The result keys this worker acked after explaining them (not those it found stored).</summary>
    public IReadOnlyList<string> Computed => Lines.Where(l => l.StartsWith("acked ", StringComparison.Ordinal) && l.EndsWith("(computed)", StringComparison.Ordinal))
        .Select(l => l.Split(' ')[1]).ToList();

    public bool HasExited => _process.HasExited;

    public bool WaitFor(Func<string, bool> line, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (Lines.Any(line)) return true;
            if (_process.HasExited) return Lines.Any(line);
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>SIGKILL: no cleanup, no goodbye to the server.</summary>
    public void Kill()
    {
        try { _process.Kill(); } catch (InvalidOperationException) { }
    }

    private void Add(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add(line);
        _onLine?.Invoke(this, line);
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Kill();
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }
}
