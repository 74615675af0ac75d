using System.Net;

namespace ScoreCam.Onnx.Cli.Serve;

/// <summary>Where <see cref="ExplainServer"/> listens and the limits it keeps.</summary>
internal sealed record ServerOptions
{
    public IPAddress Address { get; init; } = IPAddress.Loopback;
    /// <summary>0: any free port (tests).</summary>
    public int Port { get; init; } = 5000;
    /// <summary>Largest request body, raw or multipart; larger requests get 413.</summary>
    public long MaxRequestBytes { get; init; } = 20L << 20;
    /// <summary>Explanations running at once; requests beyond these and <see cref="Queue"/> get 503.</summary>
    public int Concurrency { get; init; } = 2;
    /// <summary>Requests waiting for a free explanation slot.</summary>
    public int Queue { get; init; } = 8;
    /// <summary>An explanation running longer is cancelled and answered with 503.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The most passes a request may ask for through a method option that counts them (rise-masks, samples, ...).</summary>
    public int MaxRequestPasses { get; init; } = 10_000;
    /// <summary>The method of a request that names none.</summary>
    public string Method { get; init; } = "scorecam";
}
