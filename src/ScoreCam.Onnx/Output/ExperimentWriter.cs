using System.Globalization;
using System.Text;
using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;

namespace ScoreCam.Onnx.Output;

/// <summary>Writes one experiment's NAME.md, NAME.csv, NAME.json, NAME.png and NAME.svg (the figure with its text), each atomically.</summary>
internal sealed class ExperimentWriter(string folder, string name, string model, string set, int images)
{
    private readonly List<string> _written = new();

    public void Write<T>(IReadOnlyList<T> rows, string markdown, ExperimentFigure? figure, IEnumerable<object>? points)
    {
        string md = $"# {name}\n\nModel `{Path.GetFileName(model)}`, set `{set}`, {images} images.\n\n{markdown}";
        if (figure is not null) md += $"\n![{name}]({name}.svg)\n";
        Save($"{name}.md", Encoding.UTF8.GetBytes(md));
        Save($"{name}.csv", Encoding.UTF8.GetBytes(Csv(rows)));
        Save($"{name}.json", JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["experiment"] = name, ["model"] = model, ["set"] = set, ["images"] = images, ["rows"] = rows, ["points"] = points,
        }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        if (figure is not null)
            using (figure)
            {
                string png = Path.Combine(folder, $"{name}.png");
                HeatmapRenderer.SavePng(figure.Picture, png);
                _written.Add(png);
                Save($"{name}.svg", Encoding.UTF8.GetBytes(figure.Svg));
            }
    }

    public void Report(TextWriter output)
    {
        foreach (string line in File.ReadAllLines(Path.Combine(folder, $"{name}.md")).Where(l => l.StartsWith('|')))
            output.WriteLine(line);
        output.WriteLine($"wrote {string.Join(", ", _written)}");
    }

    private void Save(string file, byte[] bytes)
    {
        string path = Path.Combine(folder, file);
        AtomicFile.Write(path, bytes);
        _written.Add(path);
    }

    private static string Csv<T>(IReadOnlyList<T> rows)
    {
        var properties = typeof(T).GetProperties();
        var sb = new StringBuilder(string.Join(',', properties.Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)))).Append('\n');
        foreach (T row in rows)
            sb.Append(string.Join(',', properties.Select(p => p.GetValue(row) switch
            {
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                string s => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s,
                var v => Convert.ToString(v, CultureInfo.InvariantCulture),
            }))).Append('\n');
        return sb.ToString();
    }
}
