using System.CommandLine;
using System.Globalization;
using System.Net;
using ScoreCam.Onnx.Output;
using ScoreCam.Onnx.Cli.Serve;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary><c>scorecam serve</c>: the <see cref="ExplainServer"/> on one model until Ctrl+C.</summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var methodFlags = new MethodOptions();
        var defaults = new ServerOptions();
        var host = new Option<string>("--host") { Description = "IP address to listen on (0.0.0.0: every interface).", DefaultValueFactory = _ => defaults.Address.ToString() };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free one).", DefaultValueFactory = _ => defaults.Port };
        var method = new Option<string>("--method") { Description = "Method of a request that names none.", DefaultValueFactory = _ => defaults.Method };
        var maxRequest = new Option<double>("--max-request-mb") { Description = "Largest request body in MB (413 beyond).", DefaultValueFactory = _ => defaults.MaxRequestBytes / (double)(1 << 20) };
        var concurrency = new Option<int>("--concurrency") { Description = "Explanations running at once.", DefaultValueFactory = _ => defaults.Concurrency };
        var queue = new Option<int>("--queue") { Description = "Requests waiting for a free slot; beyond them: 503.", DefaultValueFactory = _ => defaults.Queue };
        var maxPasses = new Option<int>("--max-request-passes")
        {
            Description = "The most passes a request may ask for through a method option (rise-masks, samples, ig-steps, mask-iterations).",
            DefaultValueFactory = _ => defaults.MaxRequestPasses,
        };
        var timeout = new Option<double>("--timeout") { Description = "Seconds an explanation may run before it is cancelled (503).", DefaultValueFactory = _ => defaults.Timeout.TotalSeconds };
        var pictureFlags = new PictureOptions();
        var command = new Command("serve", "Serve explanations over HTTP: POST /explain, GET / (an upload page), GET /health.")
        {
            host, port, method, maxRequest, concurrency, queue, maxPasses, timeout,
        };
        methodFlags.AddTo(command);
        pictureFlags.AddTo(command);
        model.AddTo(command);
        model.AddFeeds(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            if (!IPAddress.TryParse(r.GetValue(host), out IPAddress? address)) throw new UsageException($"--host must be an IP address such as 127.0.0.1 or 0.0.0.0; got '{r.GetValue(host)}'.");
            if (r.GetValue(port) is < 0 or > 65535) throw new UsageException($"--port must be between 0 and 65535; got {r.GetValue(port)}.");
            if (!(r.GetValue(maxRequest) is > 0 and <= 1 << 20)) throw new UsageException($"--max-request-mb must be a positive number up to {1 << 20}; got {r.GetValue(maxRequest)}.");
            if (r.GetValue(concurrency) < 1) throw new UsageException($"--concurrency must be at least 1; got {r.GetValue(concurrency)}.");
            if (r.GetValue(maxPasses) is < 1 or > Methods.CommonOptions.MaxPasses)
                throw new UsageException($"--max-request-passes must be between 1 and {Methods.CommonOptions.MaxPasses}; got {r.GetValue(maxPasses)}.");
            if (r.GetValue(queue) < 0) throw new UsageException($"--queue must not be negative; got {r.GetValue(queue)}.");
            if (!(r.GetValue(timeout) is > 0 and <= 86_400)) throw new UsageException($"--timeout must be a positive number of seconds up to 86400; got {r.GetValue(timeout)}.");
            PictureStyle style = pictureFlags.Style(r); // the defaults of the requests' picture options
            var settings = methodFlags.Settings(r);
            var defaultMethod = MethodOptions.Create(r.GetValue(method)!, settings);
            var options = new ServerOptions
            {
                Address = address, Port = r.GetValue(port), Method = defaultMethod.Name,
                MaxRequestBytes = (long)(r.GetValue(maxRequest) * (1 << 20)),
                Concurrency = r.GetValue(concurrency), Queue = r.GetValue(queue), MaxRequestPasses = r.GetValue(maxPasses), Timeout = TimeSpan.FromSeconds(r.GetValue(timeout)),
            };
            ExplainServer server;
            try
            {
                server = ExplainServer.StartAsync(options, logger => (ExplainerFactory.Create(r, model, defaultMethod, logger, out string name), name), settings, style)
                    .GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                throw new UsageException($"cannot listen on {address}:{options.Port} ({e.Message.TrimEnd('.')}); choose another --port or --host.");
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"listening: {server.Address} (POST /explain, GET /, GET /health); Ctrl+C stops"));
            server.WaitForShutdownAsync().GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return CliApp.Ok;
        }));
        return command;
    }
}
