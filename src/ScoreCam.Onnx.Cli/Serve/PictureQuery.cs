using System.Globalization;
using Microsoft.AspNetCore.Http;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Cli.Serve;

/// <summary>
/// The picture options of <c>POST /explain</c> (<c>overlay-size</c>, <c>alpha</c>, <c>colormap</c>, <c>colorbar</c>,
/// <c>picture</c>, <c>attribution-view</c>): explain's flags as query options, each missing one taken from the server's
/// style, checked by the same parser as the flags.
/// </summary>
internal static class PictureQuery
{
    /// <summary>The query keys it reads.</summary>
    public static readonly string[] Keys = { "colormap", "overlay-size", "alpha", "colorbar", "picture", "attribution-view" };

    public static PictureStyle Parse(IQueryCollection query, PictureStyle defaults) => PictureOptions.Parse(
        query["colormap"].FirstOrDefault() ?? defaults.Overlay.Colormap.ToString().ToLowerInvariant(),
        Number("overlay-size", query, defaults.Overlay.MinShortSide, text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null),
        Number("alpha", query, defaults.Overlay.Alpha, text => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : null),
        Switch("colorbar", query, defaults.Overlay.ColorBar),
        query["picture"].FirstOrDefault() ?? (defaults.Panel ? "panel" : "overlay"),
        query["attribution-view"].FirstOrDefault() ?? defaults.View?.ToString().ToLowerInvariant(),
        prefix: "");

    private static T Number<T>(string name, IQueryCollection query, T fallback, Func<string, T?> parse) where T : struct =>
        query[name].FirstOrDefault() is not { } text ? fallback
            : parse(text) ?? throw new UsageException($"{name} must be a number; got '{text}'.");

    /// <summary>A flag: present without a value, <c>true</c> or <c>1</c> turns it on; <c>false</c> or <c>0</c> off.</summary>
    private static bool Switch(string name, IQueryCollection query, bool fallback) => query[name].FirstOrDefault()?.ToLowerInvariant() switch
    {
        null => query.ContainsKey(name) || fallback,
        "" or "true" or "1" => true,
        "false" or "0" => false,
        var other => throw new UsageException($"{name} must be true or false (or given without a value); got '{other}'."),
    };
}
