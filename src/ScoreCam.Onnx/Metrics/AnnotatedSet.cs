using System.Text.Json;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// An annotated evaluation set: a folder of pictures and its <c>annotations.json</c>,
/// <c>{"images":[{"file":"0001.png","items":[{"class":3,"label":"Dress","box":[x0,y0,x1,y1]}]}]}</c>, boxes in the
/// pictures' pixels with x1 and y1 exclusive: the pixels of the upright picture (its EXIF orientation applied, as
/// viewers show it and as the explainer loads it).
/// </summary>
public sealed record AnnotatedSet(string Folder, IReadOnlyList<AnnotatedImage> Images)
{
    public const string FileName = "annotations.json";

    public static AnnotatedSet Read(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            throw new ScoreCamException($"'{folder}' is not an annotated set: it has no {FileName}.");
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var images = new List<AnnotatedImage>();
            foreach (JsonElement image in doc.RootElement.GetProperty("images").EnumerateArray())
            {
                var items = image.GetProperty("items").EnumerateArray().Select(item => new AnnotatedItem(
                    item.GetProperty("class").GetInt32(),
                    item.TryGetProperty("label", out JsonElement label) && label.ValueKind == JsonValueKind.String ? label.GetString() : null,
                    BoundingBox.FromArray(item.GetProperty("box").EnumerateArray().Select(v => v.GetInt32()).ToList()))).ToList();
                images.Add(new AnnotatedImage(image.GetProperty("file").GetString()!, items));
            }
            return new AnnotatedSet(folder, images);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ScoreCamException($"{path} is not in the annotation format ({{\"images\":[{{\"file\",\"items\":[{{\"class\",\"label\",\"box\"}}]}}]}}): {e.Message}", e);
        }
    }
}

/// <summary>One picture of a set and the objects annotated in it.</summary>
public sealed record AnnotatedImage(string File, IReadOnlyList<AnnotatedItem> Items);

/// <summary>An annotated object: its class index, label and box (original pixels of the upright picture).</summary>
public sealed record AnnotatedItem(int ClassIndex, string? Label, BoundingBox Box);
