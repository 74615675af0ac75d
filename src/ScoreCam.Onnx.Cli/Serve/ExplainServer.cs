using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli.Serve;

/// <summary>
/// <c>scorecam serve</c>: a Kestrel minimal API around one shared <see cref="CamExplainer"/> (thread-safe).
/// <c>POST /explain</c> takes a picture as the body or as a multipart file and answers the explanation JSON with the
/// overlay (or panel) PNG in base64, drawn with explain's picture options given as query options; <c>GET /</c> is an upload page; <c>GET /health</c> says what is served. Bodies over the
/// size limit get 413, requests beyond the concurrency limit and its queue get 503, an explanation over the time
/// limit is cancelled and gets 503, bad input gets 400; every error body is <c>{"error": "one line"}</c>.
/// </summary>
internal sealed class ExplainServer : IAsyncDisposable
{
    private const string ExplainPolicy = "explain";
    private readonly WebApplication _app;
    private readonly CamExplainer _explainer;

    private ExplainServer(WebApplication app, CamExplainer explainer, Uri address) => (_app, _explainer, Address) = (app, explainer, address);

    /// <summary>The address it listens on (the actual port when <see cref="ServerOptions.Port"/> is 0).</summary>
    public Uri Address { get; }

    /// <summary>
    /// Starts listening. <paramref name="createExplainer"/> gets the server's logger, so that the explainer's warnings
    /// go to the server's log; the server owns and disposes the explainer.
    /// </summary>
    public static async Task<ExplainServer> StartAsync(ServerOptions options, Func<ILogger, (CamExplainer Explainer, string ModelName)> createExplainer,
        MethodSettings settings, PictureStyle? style = null, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        // Warnings and the lifetime lines (listening, stopping); not a line per request.
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        logging?.Invoke(builder.Logging);
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(options.Address, options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        builder.Services.Configure<FormOptions>(form => form.MultipartBodyLengthLimit = options.MaxRequestBytes);
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            limiter.OnRejected = (context, token) => new ValueTask(Error(context.HttpContext.Response, StatusCodes.Status503ServiceUnavailable,
                $"The server is busy ({options.Concurrency} explanations running, {options.Queue} waiting); retry later.", token));
            limiter.AddConcurrencyLimiter(ExplainPolicy, c =>
            {
                c.PermitLimit = options.Concurrency;
                c.QueueLimit = options.Queue;
                c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
        });
        WebApplication app = builder.Build();
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ScoreCam.Onnx");
        var (explainer, modelName) = createExplainer(logger);
        try
        {
            var endpoint = new ExplainEndpoint(explainer, modelName, settings, style ?? PictureStyle.Default, options, logger);
            app.UseRateLimiter();
            app.MapPost("/explain", endpoint.HandleAsync).RequireRateLimiting(ExplainPolicy);
            app.MapGet("/", (HttpContext context) =>
            {
                context.Response.Headers.ContentSecurityPolicy = UploadPage.ContentSecurityPolicy;
                return Results.Content(UploadPage.Html(modelName), "text/html; charset=utf-8");
            });
            app.MapGet("/health", () => Results.Json(new
            {
                status = "ok",
                model = modelName,
                device = explainer.Session.Device.ToString().ToLowerInvariant(),
                methods = MethodCatalog.Names,
            }, ExplanationJson.Options));
            await app.StartAsync(cancellationToken);
            string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new ExplainServer(app, explainer, new Uri(address));
        }
        catch
        {
            await app.DisposeAsync();
            explainer.Dispose();
            throw;
        }
    }

    /// <summary>Runs until the process is asked to stop (Ctrl+C, SIGTERM) or <paramref name="cancellationToken"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _explainer.Dispose();
    }

    // Readable text ('nosuch', gradcam++), not \u0027 escapes: the explanation JSON's encoder, on one line.
    private static readonly JsonSerializerOptions ErrorJson = new(ExplanationJson.Options) { WriteIndented = false };

    internal static Task Error(HttpResponse response, int status, string message, CancellationToken cancellationToken = default)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        return response.WriteAsync(JsonSerializer.Serialize(new { error = message }, ErrorJson), cancellationToken);
    }

    /// <summary><c>POST /explain</c>.</summary>
    private sealed class ExplainEndpoint(CamExplainer explainer, string modelName, MethodSettings settings, PictureStyle defaultStyle, ServerOptions options, ILogger logger)
    {
        public async Task HandleAsync(HttpContext context)
        {
            HttpRequest request = context.Request;
            try
            {
                // versus alone: the most probable other class, as on the command line.
                bool counterfactual = request.Query.ContainsKey("versus");
                ExplanationTarget? versus = request.Query["versus"].FirstOrDefault() is { Length: > 0 } v ? ExplanationTarget.Parse(v) : null;
                QueryKeys.Check(request.Query);
                string methodName = request.Query["method"].FirstOrDefault() ?? options.Method;
                IExplanationMethod method = MethodOptions.Create(methodName, QueryKeys.Settings(request.Query, methodName, settings, options.MaxRequestPasses));
                // A detector explains one detection a request: the one 'detection' names (default 0, the most confident) or a 'box' of class 'target'.
                DetectorChoice? detector = DetectionOptions.FromQuery(k => request.Query[k].FirstOrDefault()).Choose(explainer, request.Query["target"].FirstOrDefault());
                if (detector is not null && counterfactual) throw new UsageException("The model is a detector: its targets are detections (detection, box); versus does not apply.");
                // A segmenter's class over the region 'region' names (predicted or a box), the class 'target' names.
                ExplanationTarget? region = SegmentationOptions.FromQuery(request.Query[SegmentationOptions.QueryKey].FirstOrDefault(), request.Query["target"].FirstOrDefault());
                if (region is not null && (detector is not null || counterfactual))
                    throw new UsageException("region explains a segmenter's class over a region; it does not combine with a detector's keys or versus.");
                ExplanationTarget target = region ?? (detector is null && request.Query["target"].FirstOrDefault() is { Length: > 0 } t ? ExplanationTarget.Parse(t) : ExplanationTarget.TopPrediction);
                PictureStyle style = PictureQuery.Parse(request.Query, defaultStyle);
                (MemoryStream body, string name) = await ReadPictureAsync(request, context.RequestAborted);

                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                deadline.CancelAfter(options.Timeout);
                byte[] json;
                try
                {
                    var explanationRequest = new ExplanationRequest { Target = target, Counterfactual = counterfactual, Versus = versus };
                    json = await Task.Run(() => Explain(body, name, explanationRequest, detector, method, style, deadline.Token), deadline.Token);
                }
                catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
                {
                    await Error(context.Response, StatusCodes.Status503ServiceUnavailable,
                        $"The explanation took longer than the server's limit of {options.Timeout.TotalSeconds:0.#} s and was cancelled; try a faster method or a smaller picture.");
                    return;
                }
                context.Response.ContentType = "application/json; charset=utf-8";
                await context.Response.Body.WriteAsync(json, context.RequestAborted);
            }
            catch (Exception e) when (e is UsageException or ScoreCamException)
            {
                await Error(context.Response, StatusCodes.Status400BadRequest, e.Message);
            }
            catch (BadHttpRequestException e)
            {
                await Error(context.Response, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? $"The request is larger than the server's limit of {options.MaxRequestBytes} bytes."
                    : e.Message);
            }
            catch (InvalidDataException e)
            {
                await Error(context.Response, StatusCodes.Status400BadRequest, $"The multipart form cannot be read: {e.Message}");
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                logger.LogDebug("A client left before its explanation was done; it was cancelled.");
            }
        }

        private byte[] Explain(MemoryStream body, string name, ExplanationRequest request, DetectorChoice? detector, IExplanationMethod method, PictureStyle style,
            CancellationToken cancellationToken)
        {
            var pipeline = new ExplanationPipeline(explainer, modelName) { Style = style };
            using PictureInput input = pipeline.Load(body, name);
            if (detector is not null)
            {
                var targets = detector.Targets(input);
                if (targets.Count == 0)
                    throw new UsageException($"The picture has no detection at confidence {detector.Confidence:0.###} or more; lower confidence or give a box and a target class.");
                request = request with { Target = targets[0].Target };
            }
            ExplainedPicture result = pipeline.Explain(input, method, request, cancellationToken: cancellationToken);
            return ExplanationJson.Serialize(result.Document with { OverlayPng = result.Pictures.OverlayPng, AttributionPng = result.Pictures.AttributionPng });
        }

        /// <summary>The picture from a multipart form's file (the field <c>image</c>, else the first file) or the raw body.</summary>
        private static async Task<(MemoryStream Body, string Name)> ReadPictureAsync(HttpRequest request, CancellationToken cancellationToken)
        {
            var body = new MemoryStream();
            string name = "upload";
            if (request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
            {
                IFormCollection form = await request.ReadFormAsync(cancellationToken);
                IFormFile file = form.Files.GetFile("image") ?? form.Files.FirstOrDefault()
                    ?? throw new UsageException("The form has no file; send the picture as the file field 'image'.");
                await file.CopyToAsync(body, cancellationToken);
                if (file.FileName.Length > 0) name = Path.GetFileName(file.FileName);
            }
            else await request.Body.CopyToAsync(body, cancellationToken);
            if (body.Length == 0) throw new UsageException("The request has no picture; send it as the body or as the multipart file field 'image'.");
            body.Position = 0;
            return (body, name);
        }
    }
}
