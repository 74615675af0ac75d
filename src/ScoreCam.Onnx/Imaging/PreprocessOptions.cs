using System.Text.Json;
using System.Text.Json.Serialization;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// How a picture becomes the model's input tensor. The defaults are the paper's (section 5): 224×224, RGB scaled
/// to [0, 1], normalized with the ImageNet mean and standard deviation. A model may carry a sidecar
/// <c>NAME.preprocess.json</c> with the same fields.
/// </summary>
public sealed record PreprocessOptions
{
    public static float[] ImageNetMean => new[] { 0.485f, 0.456f, 0.406f };
    public static float[] ImageNetStd => new[] { 0.229f, 0.224f, 0.225f };

    public int Width { get; init; } = 224;
    public int Height { get; init; } = 224;
    public ResizeMode Resize { get; init; } = ResizeMode.Stretch;
    /// <summary>1: pixel values in [0, 1]; 255: in [0, 255]. Applied before mean and std.</summary>
    public float Scale { get; init; } = 1f;
    public float[] Mean { get; init; } = ImageNetMean;
    public float[] Std { get; init; } = ImageNetStd;
    /// <summary>Channels in B, G, R order (Caffe / OpenCV-trained models).</summary>
    public bool Bgr { get; init; }
    /// <summary>Labels file, relative to the sidecar's folder when read from one.</summary>
    public string? Labels { get; init; }

    /// <summary>Throws a <see cref="ScoreCamException"/> naming the first bad field.</summary>
    public void Validate(int channels = 3)
    {
        if (Width <= 0 || Height <= 0) throw new ScoreCamException($"Input size must be positive; got {Width}x{Height}.");
        if (Scale is not (1f or 255f)) throw new ScoreCamException($"Scale must be 1 or 255; got {Scale}.");
        if (Mean.Length != 3 || Std.Length != 3) throw new ScoreCamException("Mean and std need three values each (R, G, B).");
        if (Std.Any(s => !(s > 0))) throw new ScoreCamException("Every std value must be positive.");
        if (channels is not (1 or 3)) throw new ScoreCamException($"Images have 1 or 3 channels; the model wants {channels}.");
    }

    /// <summary>Reads <c>NAME.preprocess.json</c> next to <paramref name="modelPath"/>, or returns null when there is none.</summary>
    public static PreprocessOptions? FromSidecar(string modelPath)
    {
        string path = SidecarPath(modelPath);
        if (!File.Exists(path)) return null;
        try
        {
            var sidecar = JsonSerializer.Deserialize<PreprocessOptions>(File.ReadAllText(path), JsonOptions)
                ?? throw new ScoreCamException($"Preprocessing sidecar '{path}' is empty.");
            string? labels = sidecar.Labels is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, sidecar.Labels);
            return sidecar with { Labels = labels };
        }
        catch (JsonException e)
        {
            throw new ScoreCamException($"Preprocessing sidecar '{path}' is not valid JSON for these fields (width, height, resize, scale, mean, std, bgr, labels): {e.Message}", e);
        }
    }

    /// <summary><c>model.onnx</c> → <c>model.preprocess.json</c>; <c>model.cam.onnx</c> also maps to <c>model.preprocess.json</c>.</summary>
    public static string SidecarPath(string modelPath)
    {
        string name = Path.GetFileNameWithoutExtension(modelPath);
        if (name.EndsWith(".cam", StringComparison.OrdinalIgnoreCase)) name = name[..^4];
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, name + ".preprocess.json");
    }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        WriteIndented = true,
    };
}
