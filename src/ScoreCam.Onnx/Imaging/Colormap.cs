namespace ScoreCam.Onnx.Imaging;

/// <summary>Maps a value in [0, 1] to a colour.</summary>
public enum Colormap
{
    /// <summary>matplotlib's jet, as in the paper's figures.</summary>
    Jet,
    /// <summary>matplotlib's viridis: perceptually uniform and readable in grey and by colour-blind viewers.</summary>
    Viridis,
    /// <summary>Black (0) to white (1), as the gradient saliency maps of Simonyan et al. are drawn.</summary>
    Grey,
    /// <summary>matplotlib's bwr: blue (0), white (0.5), red (1); for signed values mapped with 0 at 0.5.</summary>
    BlueWhiteRed,
}

internal static class ColormapTable
{
    // viridis sampled at nine evenly spaced points; linear interpolation between them is within a few levels of the full table.
    private static readonly (float R, float G, float B)[] Viridis =
    {
        (68, 1, 84), (71, 44, 122), (59, 82, 139), (44, 113, 142), (33, 145, 140),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    };

    public static (byte R, byte G, byte B) Color(Colormap map, float value)
    {
        float v = float.IsNaN(value) ? 0f : Math.Clamp(value, 0f, 1f);
        switch (map)
        {
            case Colormap.Jet:
                return (Channel(1.5f - Math.Abs(4f * v - 3f)), Channel(1.5f - Math.Abs(4f * v - 2f)), Channel(1.5f - Math.Abs(4f * v - 1f)));
            case Colormap.Grey:
                return (Channel(v), Channel(v), Channel(v));
            case Colormap.BlueWhiteRed:
                return v < 0.5f ? (Channel(2f * v), Channel(2f * v), (byte)255) : ((byte)255, Channel(2f - 2f * v), Channel(2f - 2f * v));
        }
        float position = v * (Viridis.Length - 1);
        int i = Math.Min((int)position, Viridis.Length - 2);
        float f = position - i;
        var (a, b) = (Viridis[i], Viridis[i + 1]);
        return ((byte)(a.R + (b.R - a.R) * f + 0.5f), (byte)(a.G + (b.G - a.G) * f + 0.5f), (byte)(a.B + (b.B - a.B) * f + 0.5f));
    }

    private static byte Channel(float x) => (byte)(Math.Clamp(x, 0f, 1f) * 255f + 0.5f);
}
