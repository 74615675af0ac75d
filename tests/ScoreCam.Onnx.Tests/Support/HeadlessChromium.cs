using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScoreCam.Onnx.Tests.Support;

/// <summary>
/// Debian's chromium in headless mode, driven over the DevTools protocol (one page, one request at a time).
/// Missing chromium fails the test: install the `chromium` package (.ci/run does).
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempFolder _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly List<JsonNode> _events = new();
    private readonly CancellationToken _cancel;
    private int _nextId;

    private HeadlessChromium(Process process, TempFolder profile, CancellationToken cancel) => (_process, _profile, _cancel) = (process, profile, cancel);

    public static async Task<HeadlessChromium> StartAsync(CancellationToken cancel)
    {
        string executable = Find() ?? throw new AssertionException("chromium is not installed: the report test needs a real browser (apt-get install chromium).");
        var profile = new TempFolder();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--hide-scrollbars", "--window-size=1280,1600", $"--user-data-dir={profile.Path}",
                     "--remote-debugging-port=0", "about:blank" })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var endpoint = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { endpoint.TrySetException(new AssertionException($"chromium exited before it listened:\n{log}")); return; }
            lock (log) log.AppendLine(e.Data);
            const string prefix = "DevTools listening on ";
            if (e.Data.StartsWith(prefix, StringComparison.Ordinal)) endpoint.TrySetResult(new Uri(e.Data[prefix.Length..]));
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile, cancel);
        try
        {
            Uri browserSocket = await endpoint.Task.WaitAsync(cancel);
            using var http = new HttpClient();
            JsonArray targets = (await http.GetFromJsonAsync<JsonArray>($"http://{browserSocket.Authority}/json/list", cancel))!;
            string page = targets.First(t => (string?)t!["type"] == "page")!["webSocketDebuggerUrl"]!.GetValue<string>();
            await browser._socket.ConnectAsync(new Uri(page), cancel);
            await browser.SendAsync("Page.enable");
            await browser.SendAsync("Runtime.enable");
            await browser.SendAsync("Log.enable");
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens <paramref name="file"/> and waits for its load event (every image fetched).</summary>
    public Task OpenAsync(string file) => NavigateAsync(new Uri(Path.GetFullPath(file)));

    /// <summary>Opens <paramref name="url"/> and waits for its load event (every image fetched).</summary>
    public async Task NavigateAsync(Uri url)
    {
        _events.Clear();
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url.AbsoluteUri });
        while (!_events.Any(e => (string?)e["method"] == "Page.loadEventFired")) await ReceiveAsync();
    }

    /// <summary>Puts <paramref name="file"/> into the file input that <paramref name="selector"/> finds, as a user's pick would.</summary>
    public async Task SetFileInputAsync(string selector, string file)
    {
        JsonNode document = await SendAsync("DOM.getDocument");
        JsonNode found = await SendAsync("DOM.querySelector", new JsonObject { ["nodeId"] = (int)document["root"]!["nodeId"]!, ["selector"] = selector });
        int node = (int)found["nodeId"]!;
        if (node == 0) throw new AssertionException($"The page has no element '{selector}'.");
        await SendAsync("DOM.setFileInputFiles", new JsonObject { ["nodeId"] = node, ["files"] = new JsonArray(Path.GetFullPath(file)) });
    }

    /// <summary>Uncaught script exceptions and console or browser errors (a refused resource, a policy violation) since the last navigation.</summary>
    public IReadOnlyList<string> PageErrors => _events.Where(e => (string?)e["method"] switch
        {
            "Runtime.exceptionThrown" => true,
            "Runtime.consoleAPICalled" => (string?)e["params"]!["type"] == "error",
            "Log.entryAdded" => (string?)e["params"]!["entry"]!["level"] == "error",
            _ => false,
        }).Select(e => e["params"]!.ToJsonString()).ToList();

    /// <summary>The value of a JavaScript expression (promises awaited), as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        JsonNode result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result["exceptionDetails"] is { } error) throw new AssertionException($"JavaScript failed: {error.ToJsonString()}");
        return result["result"]!["value"];
    }

    /// <summary>A PNG of the whole page, beyond the window.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        JsonNode result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true });
        return Convert.FromBase64String(result["data"]!.GetValue<string>());
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject? parameters = null)
    {
        int id = ++_nextId;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, _cancel);
        while (true)
        {
            JsonNode reply = await ReceiveAsync();
            if ((int?)reply["id"] != id) continue;
            if (reply["error"] is { } error) throw new AssertionException($"DevTools {method} failed: {error.ToJsonString()}");
            return reply["result"]!;
        }
    }

    /// <summary>The next message; events are kept for <see cref="OpenAsync"/>.</summary>
    private async Task<JsonNode> ReceiveAsync()
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        WebSocketReceiveResult part;
        do
        {
            part = await _socket.ReceiveAsync(chunk, _cancel);
            if (part.MessageType == WebSocketMessageType.Close) throw new AssertionException("chromium closed the DevTools connection.");
            buffer.Write(chunk, 0, part.Count);
        } while (!part.EndOfMessage);
        JsonNode message = JsonNode.Parse(buffer.ToArray())!;
        if (message["method"] is not null) _events.Add(message);
        return message;
    }

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .SelectMany(dir => new[] { "chromium", "chromium-browser" }.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open) await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException) { }
        _socket.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
        _profile.Dispose();
    }
}
