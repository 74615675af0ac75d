using System.CommandLine;
using ScoreCam.Onnx.Imaging;

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
    public Option<bool> ColorBar { get; } = new("--colorbar") { Description = "Append a colour bar (1 at the top, 0 at the bottom) to the overlay (and to magnitude or signed attribution pictures)." };
    public Option<bool> Panel { get; } = new("--panel") { Description = "Write input | overlay | heatmap side by side instead of the overlay alone." };
    public Option<string?> AttributionView { get; } = new("--attribution-view")
    {
        Description = "Pixel-space methods' second picture: magnitude (grey, max over channels of |a|), signed (blue-white-red) or rgb (the gradient picture). Default: rgb for guided methods, magnitude otherwise.",
    };

    public void AddTo(Command command, bool panel = true)
    {
        foreach (Option o in new Option[] { Colormap, OverlaySize, Alpha, ColorBar }) command.Options.Add(o);
        if (panel) command.Options.Add(Panel);
        command.Options.Add(AttributionView);
    }

    public PictureStyle Style(ParseResult r)
    {
        int size = r.GetValue(OverlaySize);
        if (size is < 0 or > OverlayOptions.MaxMinShortSide)
            throw new UsageException($"--overlay-size must be 0 (keep the size) to {OverlayOptions.MaxMinShortSide} pixels; got {size}.");
        float alpha = r.GetValue(Alpha);
        if (!(alpha is >= 0f and <= 1f)) throw new UsageException($"--alpha must be between 0 and 1; got {alpha}.");
        var overlay = new OverlayOptions
        {
            Colormap = OverlayPicture.ParseColormap(r.GetValue(Colormap)!),
            MinShortSide = size,
            Alpha = alpha,
            ColorBar = r.GetValue(ColorBar),
        };
        AttributionView? view = r.GetValue(AttributionView)?.ToLowerInvariant() switch
        {
            null => null,
            "magnitude" => Imaging.AttributionView.Magnitude,
            "signed" => Imaging.AttributionView.Signed,
            "rgb" => Imaging.AttributionView.Rgb,
            var other => throw new UsageException($"--attribution-view must be magnitude, signed or rgb; got '{other}'."),
        };
        return new PictureStyle(overlay, r.CommandResult.Command.Options.Contains(Panel) && r.GetValue(Panel), view);
    }
}
