namespace ScoreCam.Onnx.Tests.Docs;

/// <summary>Every C# snippet of the README, docs/ and the packages' READMEs compiles as written, so none can rot.</summary>
public class SnippetCompilationTests
{
    [Test]
    public void Every_csharp_snippet_in_the_documentation_compiles()
    {
        var snippets = DocumentationFiles.All().SelectMany(f => DocumentationFiles.FencedBlocks(f, "csharp")).ToList();
        snippets.Select(s => s.File).Should().Contain(["README.md", "docs/library.md"], "the front page and the library guide show C#");

        var failures = snippets
            .Select(s => (Snippet: s, Errors: SnippetCompiler.Errors(s.Text)))
            .Where(r => r.Errors.Count > 0)
            .Select(r => $"{r.Snippet} (snippet {string.Join("; ", r.Errors)})")
            .ToList();
        failures.Should().BeEmpty("each ```csharp block compiles as a console app's top-level statements with the usings it declares:\n" +
            string.Join("\n", failures));
    }

    [Test]
    public void A_snippet_that_misses_a_using_does_not_compile()
    {
        // The front page's quick start without `using ScoreCam.Onnx.Output;`: the check must catch what readers would hit.
        string quickStart = DocumentationFiles.FencedBlocks("README.md", "csharp")[0].Text;
        quickStart.Should().Contain("using ScoreCam.Onnx.Output;");
        SnippetCompiler.Errors(quickStart).Should().BeEmpty();

        SnippetCompiler.Errors(quickStart.Replace("using ScoreCam.Onnx.Output;", ""))
            .Should().Contain(e => e.Contains("CS0246") && e.Contains("ExplanationPipeline"));
    }

    [Test]
    public void Snippets_see_the_library_but_not_the_command_line()
    {
        SnippetCompiler.Errors("var s = ScoreCam.Onnx.Cli.CliApp.Ok;").Should().ContainSingle().Which.Should().Contain("CS0234");
        SnippetCompiler.Errors("var e = new ScoreCam.Onnx.Core.ScoreCamException(\"x\");").Should().BeEmpty();
    }

    [Test]
    public void Fenced_blocks_are_read_with_their_indentation_removed()
    {
        // README's PyTorch recipe sits in a list item, indented by two spaces.
        var python = DocumentationFiles.FencedBlocks("README.md", "python");
        python.Should().Contain(b => b.Text.StartsWith("import torch") && b.Text.Contains("\ntorch.onnx.export(model"));
    }
}
