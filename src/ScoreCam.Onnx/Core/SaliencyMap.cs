namespace ScoreCam.Onnx.Core;

/// <summary>A map of Width × Height values, row-major.</summary>
public sealed record SaliencyMap(int Width, int Height, float[] Values)
{
    public float this[int x, int y] => Values[y * Width + x];
}
