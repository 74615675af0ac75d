using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ScoreCam.Onnx.Tests.Jobs;

/// <summary>
/// A real nats-server with JetStream on 127.0.0.1, a free port and a file store in a folder of the test's, stopped by
/// its process id. A machine without nats-server fails the test, saying how to install it.
/// </summary>
internal sealed class NatsServer : IDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(20);
    private readonly string _executable, _storeFolder;
    private Process? _process;

    private NatsServer(string executable, string storeFolder, int port) => (_executable, _storeFolder, Port) = (executable, storeFolder, port);

    public int Port { get; }
    public string Url => $"nats://127.0.0.1:{Port}";

    public static NatsServer Start(string storeFolder)
    {
        string executable = Find() ?? throw new AssertionException(
            "nats-server is not installed, and the job tests run against a real server: install it (Debian: apt-get install nats-server) and run the tests again.");
        var server = new NatsServer(executable, storeFolder, FreePort());
        server.Launch();
        return server;
    }

    /// <summary>Stops the server (SIGTERM, as a service manager would) and starts it again on the same port and store.</summary>
    public void Restart()
    {
        Stop();
        Launch();
    }

    private void Launch()
    {
        var start = new ProcessStartInfo(_executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { "-js", "-a", "127.0.0.1", "-p", Port.ToString(), "-sd", _storeFolder }) start.ArgumentList.Add(arg);
        var ready = new ManualResetEventSlim();
        var log = new List<string>();
        _process = Process.Start(start)!;
        void OnLine(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (log) log.Add(e.Data);
            if (e.Data.Contains("Server is ready", StringComparison.Ordinal)) ready.Set();
        }
        _process.ErrorDataReceived += OnLine;
        _process.OutputDataReceived += OnLine;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        if (!ready.Wait(StartLimit))
        {
            Stop();
            lock (log) Assert.Fail($"nats-server did not become ready within {StartLimit.TotalSeconds} s:\n{string.Join('\n', log)}");
        }
    }

    public void Stop()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
        _process = null;
    }

    public void Dispose() => Stop();

    private static string? Find()
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "/usr/sbin", "/usr/local/bin", "/usr/bin" });
        return folders.Select(f => Path.Combine(f, "nats-server")).FirstOrDefault(File.Exists);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static extern int Kill(int pid, int signal);
}
