using Microsoft.Extensions.Logging;

namespace ScoreCam.Onnx.Core;

/// <summary>The library's log events: warnings a user should see once, and per-explanation diagnostics.</summary>
internal static partial class ExplainerLog
{
    /// <summary>The event ids a log reader may count by: an explanation built, and its constant-map warning.</summary>
    internal const int ExplainedEvent = 3, MapWarningEvent = 6;

    /// <summary>From model preparation: a batch size fixed by the model (passes padded to it, or run one at a time).</summary>
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void ModelWarning(ILogger logger, string warning);

    /// <summary>From session creation: CUDA unavailable, running on CPU.</summary>
    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void SessionWarning(ILogger logger, string warning);

    /// <summary>From loading a picture: an orientation tag that cannot be applied, so the stored pixels are explained.</summary>
    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void ImageWarning(ILogger logger, string warning);

    /// <summary>From the int8 copies' cache folder: a copy that cannot be read back or written (calibrated in memory instead).</summary>
    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void CacheWarning(ILogger logger, string warning);

    /// <summary>From an explanation: a constant map (nothing to show), its likely cause and what to try.</summary>
    [LoggerMessage(EventId = MapWarningEvent, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void MapWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = ExplainedEvent, Level = LogLevel.Debug,
        Message = "{Method} explained {Target}: {ForwardPasses} forward passes, {SkippedChannels} channels skipped (constant maps), {ElapsedMs:0.0} ms")]
    public static partial void Explained(ILogger logger, string method, string target, int forwardPasses, int skippedChannels, double elapsedMs);
}
