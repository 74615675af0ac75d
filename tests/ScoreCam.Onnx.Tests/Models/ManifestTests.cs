using System.Security.Cryptography;
using System.Text.Json;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>onnx-models/manifest.json (tools/export/make_manifest.py) lists every committed model, set and sample with
/// its sha256: each listed file exists and has that checksum, and every committed .onnx file is listed.</summary>
public class ManifestTests
{
    private static IEnumerable<(string File, string Sha)> Checksums(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty p in e.EnumerateObject())
            {
                if (p.Name == "sha256" && p.Value.ValueKind == JsonValueKind.Object)
                    foreach (JsonProperty f in p.Value.EnumerateObject()) yield return (f.Name, f.Value.GetString()!);
                else
                    foreach (var c in Checksums(p.Value)) yield return c;
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in e.EnumerateArray())
                foreach (var c in Checksums(item)) yield return c;
        }
    }

    [Test]
    public void Every_listed_file_exists_with_its_checksum()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Repository.Path("onnx-models", "manifest.json")));
        var sums = Checksums(doc.RootElement).ToList();
        var models = Directory.GetFiles(Repository.Path("onnx-models"), "*.onnx", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Repository.Path("onnx-models"), f).Replace('\\', '/')).ToList();
        models.Should().NotBeEmpty();
        models.Except(sums.Select(s => s.File)).Should().BeEmpty("every committed model is listed in the manifest");
        var wrong = sums.Where(s => !File.Exists(Repository.Path("onnx-models", s.File))
            || Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Repository.Path("onnx-models", s.File)))) != s.Sha)
            .Select(s => s.File).ToList();
        wrong.Should().BeEmpty("rerun tools/export/make_manifest.py after changing a committed file");
    }
}
