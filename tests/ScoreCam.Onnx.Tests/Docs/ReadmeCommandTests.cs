using ScoreCam.Onnx.Cli;

namespace ScoreCam.Onnx.Tests.Docs;

/// <summary>
/// Every `dotnet run --project src/ScoreCam.Onnx.Cli -- COMMAND ...` line of the README and of docs/ parses: the
/// command and its options exist and their values are accepted. Parsed by the command's own parser, never run.
/// </summary>
public class ReadmeCommandTests
{
    private const string Prefix = "dotnet run --project src/ScoreCam.Onnx.Cli -- ";

    [Test]
    public void Every_documented_scorecam_command_line_parses()
    {
        var commands = DocumentationFiles.All().SelectMany(f => DocumentationFiles.Commands(f, Prefix))
            .Where(c => !c.Text.StartsWith(Prefix + "COMMAND", StringComparison.Ordinal)).ToList();
        commands.Where(c => c.File == "README.md").Should().HaveCountGreaterThanOrEqualTo(3, "the README shows explain and serve");

        var failures = new List<string>();
        foreach (DocumentationBlock command in commands)
        {
            var errors = Parse(DocumentationFiles.ShellWords(command.Text[Prefix.Length..]));
            if (errors.Count > 0) failures.Add($"{command}: `{command.Text}`: {string.Join("; ", errors)}");
        }
        failures.Should().BeEmpty(string.Join("\n", failures));
    }

    [Test]
    public void A_misspelt_option_is_caught()
    {
        Parse(["explain", "--method", "gradcam"]).Should().BeEmpty();
        Parse(["explain", "--methd", "gradcam"]).Should().Contain(e => e.Contains("--methd"));
        Parse(["explian"]).Should().NotBeEmpty();
    }

    private static IReadOnlyList<string> Parse(IReadOnlyList<string> args) =>
        CliApp.Root(TextWriter.Null, TextWriter.Null).Parse(args.ToArray()).Errors.Select(e => e.Message).ToArray();

    [Test]
    public void Shell_words_follow_quotes_and_stop_at_a_pipe_or_redirection()
    {
        DocumentationFiles.ShellWords("explain --image 'a b/*.png' --out \"x y.png\" > log.txt")
            .Should().Equal("explain", "--image", "a b/*.png", "--out", "x y.png");
        DocumentationFiles.ShellWords("serve --port 5000 & curl x").Should().Equal("serve", "--port", "5000");
    }
}
