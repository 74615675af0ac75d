using System.CommandLine;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Cli;

/// <summary>The flags that shape the pictures explain and report draw; they build a <see cref="PictureStyle"/>.</summary>
internal sealed class PictureOptions
{
    public Option<string> Colormap { get; } = new("--colormap") { Description = "jet (as in the paper) or viridis.", DefaultValueFactory = _ => "jet" };
    public Option<int> OverlaySize { get; } = new("--overlay-size")
    {
        Description = $"Pictures whose short side is smaller are scaled up to N pixels; 0 keeps every size. Default: {OverlayOptions.DefaultMinShortSide}.",
        DefaultValueFactory = _ => OverlayOptions.DefaultMinShortSide,
    };
    public Option<float> Alpha { get; } = new("--alpha") { Description = "The heatmap's weight in the overlay, from 0 (picture only) to 1 (heatmap only). Default: 0.5.", DefaultValueFactory = _ => 0.5f };
    public Option<bool> ColorBar { get; } = new("--colorbar")
    {
        Description = "Append a colour bar (1 at the top, 0 at the bottom) to the picture (and to magnitude or signed attribution pictures); --colorbar false leaves it out. Default: true.",
        DefaultValueFactory = _ => true,
    };
    public Option<string> Picture { get; } = new("--picture")
    {
        Description = "panel: input | overlay | heatmap side by side (default); overlay: the heatmap over the picture alone.",
        DefaultValueFactory = _ => "panel",
    };
    public Option<string?> AttributionView { get; } = new("--attribution-view")
    {
        Description = "Pixel-space methods' second picture: magnitude (grey, max over channels of |a|), signed (blue-white-red) or rgb (the gradient picture). Default: rgb for guided methods, magnitude otherwise.",
    };

    public void AddTo(Command command, bool panel = true)
    {
        foreach (Option o in new Option[] { Colormap, OverlaySize, Alpha, ColorBar }) command.Options.Add(o);
        if (panel) command.Options.Add(Picture);
        command.Options.Add(AttributionView);
    }

    public PictureStyle Style(ParseResult r) => Parse(r.GetValue(Colormap)!, r.GetValue(OverlaySize), r.GetValue(Alpha), r.GetValue(ColorBar),
        r.CommandResult.Command.Options.Contains(Picture) ? r.GetValue(Picture)! : "overlay", r.GetValue(AttributionView), "--");

    /// <summary>
    /// Checks the picture settings and builds the style: the one parser of explain's and report's flags and of serve's
    /// query options, whose names differ only by <paramref name="prefix"/> ("--" for flags, "" for query options).
    /// </summary>
    public static PictureStyle Parse(string colormap, int overlaySize, float alpha, bool colorBar, string picture, string? attributionView, string prefix)
    {
        bool panel = picture.ToLowerInvariant() switch
        {
            "panel" => true,
            "overlay" => false,
            var other => throw new UsageException($"{prefix}picture must be panel or overlay; got '{other}'."),
        };
        if (overlaySize is < 0 or > OverlayOptions.MaxMinShortSide)
            throw new UsageException($"{prefix}overlay-size must be 0 (keep the size) to {OverlayOptions.MaxMinShortSide} pixels; got {overlaySize}.");
        if (!(alpha is >= 0f and <= 1f)) throw new UsageException($"{prefix}alpha must be between 0 and 1; got {alpha}.");
        var overlay = new OverlayOptions
        {
            Colormap = ParseColormap(colormap, $"{prefix}colormap"),
            MinShortSide = overlaySize,
            Alpha = alpha,
            ColorBar = colorBar,
        };
        AttributionView? view = attributionView?.ToLowerInvariant() switch
        {
            null => null,
            "magnitude" => Imaging.AttributionView.Magnitude,
            "signed" => Imaging.AttributionView.Signed,
            "rgb" => Imaging.AttributionView.Rgb,
            var other => throw new UsageException($"{prefix}attribution-view must be magnitude, signed or rgb; got '{other}'."),
        };
        return new PictureStyle(overlay, panel, view);
    }

    private static Colormap ParseColormap(string text, string name) => text.ToLowerInvariant() switch
    {
        "jet" => Imaging.Colormap.Jet,
        "viridis" => Imaging.Colormap.Viridis,
        var other => throw new UsageException($"{name} must be jet or viridis; got '{other}'."),
    };
}
