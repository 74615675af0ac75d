using System.Reflection;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli;

/// <summary>The trained fashion-clutter classifier and its sample canvas, embedded so that `scorecam explain` runs with no arguments.</summary>
internal static class EmbeddedDefaults
{
    public const string ModelName = "embedded fashion-clutter model";
    public const string ImageName = "embedded sample canvas";

    public static byte[] Model() => Read("fashion-clutter.onnx");

    public static IReadOnlyList<string> Labels() =>
        System.Text.Encoding.UTF8.GetString(Read("labels.txt")).Split('\n', StringSplitOptions.TrimEntries).Where(l => l.Length > 0).ToList();

    public static PreprocessOptions Preprocess() =>
        System.Text.Json.JsonSerializer.Deserialize<PreprocessOptions>(Read("fashion-clutter.preprocess.json"), PreprocessOptions.JsonOptions)!
        with { Labels = null };

    public static Image<Rgb24> SampleImage() => Image.Load<Rgb24>(Read("sample.png"));

    private static byte[] Read(string name)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("defaults/" + name)
            ?? throw new InvalidOperationException($"Embedded resource '{name}' is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
