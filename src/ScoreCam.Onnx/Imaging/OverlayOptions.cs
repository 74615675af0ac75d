namespace ScoreCam.Onnx.Imaging;

/// <summary>How <see cref="HeatmapRenderer.Render"/> and <see cref="HeatmapRenderer.Panel"/> draw a heatmap over a picture.</summary>
public sealed record OverlayOptions
{
    /// <summary>Pictures with a shorter short side are scaled up to this many pixels by default (the default model's 96×96 canvases to 384×384).</summary>
    public const int DefaultMinShortSide = 384;

    /// <summary>The largest <see cref="MinShortSide"/> accepted: a 4096-pixel short side already makes a picture of 50 MB or more.</summary>
    public const int MaxMinShortSide = 4096;

    public Colormap Colormap { get; init; } = Colormap.Jet;

    /// <summary>The heatmap's weight in the blend, in [0, 1]: 0 shows the picture only, 1 the heatmap only.</summary>
    public float Alpha { get; init; } = 0.5f;

    /// <summary>
    /// Pictures whose short side is smaller are scaled up (keeping their aspect ratio) until it is this long; larger
    /// pictures keep their size; 0 keeps every picture's size.
    /// </summary>
    public int MinShortSide { get; init; } = DefaultMinShortSide;

    /// <summary>Appends a vertical colour bar (1 at the top, 0 at the bottom, no text) to the right.</summary>
    public bool ColorBar { get; init; }

    internal void Validate()
    {
        if (!(Alpha is >= 0f and <= 1f)) throw new ArgumentOutOfRangeException(nameof(Alpha), $"Alpha must be in [0, 1]; got {Alpha}.");
        ValidateSize(MinShortSide);
    }

    internal static void ValidateSize(int minShortSide)
    {
        if (minShortSide is < 0 or > MaxMinShortSide)
            throw new ArgumentOutOfRangeException(nameof(MinShortSide), $"The minimum short side must be 0 (keep the size) to {MaxMinShortSide} pixels; got {minShortSide}.");
    }
}
