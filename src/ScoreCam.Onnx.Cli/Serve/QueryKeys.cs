using Microsoft.AspNetCore.Http;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Cli.Serve;

/// <summary>
/// The query keys of <c>POST /explain</c>: method, target, versus, the picture options, a detector's options, a segmenter's region and every option a method
/// declares (<see cref="MethodCatalog.Options"/>). An unknown key is refused, never ignored.
/// </summary>
internal static class QueryKeys
{
    private static readonly string[] Request = { "method", "target", "versus" };

    public static IReadOnlyList<string> Known { get; } =
        Request.Concat(PictureQuery.Keys).Concat(DetectionOptions.QueryKeys).Append(SegmentationOptions.QueryKey).Concat(MethodCatalog.Options.Select(o => o.Name)).ToArray();

    /// <summary>Refuses a key nobody reads, naming it, the closest known key and the known keys.</summary>
    public static void Check(IQueryCollection query)
    {
        foreach (string key in query.Keys)
            if (!Known.Contains(key, StringComparer.Ordinal))
                throw new UsageException($"Unknown query key '{key}'{(Suggestion.Closest(key, Known) is { } s ? $" (did you mean '{s}'?)" : "")}; the keys are {string.Join(", ", Known)}.");
    }

    /// <summary>
    /// The server's method settings with the request's method options on top; options that count passes are capped at
    /// <paramref name="maxPasses"/>. A key of an option that <paramref name="method"/> does not declare is refused.
    /// </summary>
    public static MethodSettings Settings(IQueryCollection query, string method, MethodSettings server, int maxPasses)
    {
        MethodOptions.RefuseUnreached(MethodCatalog.Options.Where(o => query.ContainsKey(o.Name)), method, "");
        MethodSettings settings = server;
        foreach (MethodOption option in MethodCatalog.Options)
        {
            if (query[option.Name].FirstOrDefault() is not { } text) continue;
            settings = MethodOptions.Read(settings, option, text, "");
            if (option.CountsPasses && option.Parse(text) is int passes && passes > maxPasses)
                throw new UsageException($"{option.Name} {passes} is over this server's limit of {maxPasses} passes per request.");
        }
        return settings;
    }
}
