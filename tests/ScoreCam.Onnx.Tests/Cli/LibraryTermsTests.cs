using System.Text.RegularExpressions;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>
/// The library's messages name API options, never CLI flags; the CLI names the flags that set them. Each API name
/// the CLI translates is a real property, so that a rename does not leave a message untranslated.
/// </summary>
public class LibraryTermsTests
{
    [TestCase("Choose a later target layer (ModelPreparationOptions.Layer) or convert the op.", "Choose a later target layer (--layer) or convert the op.")]
    [TestCase("several image-like inputs (a, b); name one with ModelPreparationOptions.InputName.", "several image-like inputs (a, b); name one with --input.")]
    [TestCase("several score outputs (a, b); name one with ModelPreparationOptions.OutputName.", "several score outputs (a, b); name one with --output.")]
    [TestCase("Give it a fixed value, broadcast over the batch: ModelPreparationOptions.Feeds[\"tokens\"].", "Give it a fixed value, broadcast over the batch: --feed tokens=FILE.npy.")]
    [TestCase("it takes the picture, not a fixed value (ModelPreparationOptions.Feeds).", "it takes the picture, not a fixed value (--feed).")]
    [TestCase("Prepare it with that output (ModelPreparationOptions.OutputName = \"logits\").", "Prepare it with that output (--target-output logits).")]
    [TestCase("Check the input size (ModelPreparationOptions.ProbeSize) and", "Check the input size (--size) and")]
    [TestCase("Preprocess to that size (PreprocessOptions.Width = 224, PreprocessOptions.Height = 160).", "Preprocess to that size (--size 224x160).")]
    [TestCase("Check the input size and the preprocessing (PreprocessOptions) against", "Check the input size and the preprocessing (--size, --resize, --mean, --std, --scale, --bgr) against")]
    [TestCase("raise the limit (ExplainerOptions.MaxImagePixels).", "raise the limit (--max-megapixels).")]
    [TestCase("Give the labels (ExplainerOptions.Labels) or a class index.", "Give the labels (--labels) or a class index.")]
    public void An_API_option_in_a_library_message_becomes_its_flag(string library, string cli)
    {
        LibraryTerms.Rephrase(library).Should().Be(cli);
        foreach (Match m in Regex.Matches(library, @"\b(\w+Options)(?:\.(\w+))?"))
        {
            Type? type = typeof(CamExplainer).Assembly.GetTypes().SingleOrDefault(t => t.Name == m.Groups[1].Value);
            type.Should().NotBeNull($"{m.Groups[1].Value} is a library type");
            if (m.Groups[2].Success) type!.GetProperty(m.Groups[2].Value).Should().NotBeNull($"{m.Value} is a property");
        }
    }

    [Test]
    public void No_library_message_names_a_command_line_flag()
    {
        var flagInString = new Regex(@"""[^""]*--[a-z]");
        var found = new List<string>();
        foreach (string project in new[] { "ScoreCam.Onnx", "ScoreCam.Onnx.Jobs" })
            foreach (string file in Directory.GetFiles(Repository.Path("src", project), "*.cs", SearchOption.AllDirectories)
                         .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
            {
                string[] lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                    if (!lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal) && flagInString.IsMatch(lines[i]))
                        found.Add($"{Path.GetRelativePath(Repository.Root, file)}:{i + 1}: {lines[i].Trim()}");
            }
        found.Should().BeEmpty("the library says which API option fixes a problem; the CLI translates it to a flag");
    }
}
