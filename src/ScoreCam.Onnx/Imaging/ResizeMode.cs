namespace ScoreCam.Onnx.Imaging;

public enum ResizeMode
{
    /// <summary>Scale both sides to the input size, ignoring the aspect ratio.</summary>
    Stretch,
    /// <summary>Scale the shorter side to the input size, keeping the aspect ratio, then cut out the centre.</summary>
    Crop,
}
