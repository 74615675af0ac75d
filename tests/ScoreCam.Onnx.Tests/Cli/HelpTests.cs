using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>Help a person can read: options in groups, each default said once, examples; "did you mean" for typos.</summary>
public class HelpTests
{
    [TestCase("explain", new[] { "Input:", "Model:", "Method:", "Output:", "Inference:", "Advanced:", "Examples:" })]
    [TestCase("evaluate", new[] { "Options:", "Input:", "Model:", "Method:", "Output:", "Inference:", "Examples:" })]
    [TestCase("serve", new[] { "Options:", "Model:", "Method:", "Output:", "Inference:", "Examples:" })]
    public void Help_groups_the_options_and_ends_with_examples(string command, string[] sections)
    {
        var (code, output, _) = CliRunner.Run(command, "--help");
        code.Should().Be(0);
        string[] lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        lines.Where(l => l.EndsWith(':') && !l.StartsWith(' ')).Should().ContainInOrder(sections);
        output.Should().NotContain("[default:", "each default is said once, in the description");
        lines.Count(l => l.TrimStart().StartsWith("--model ")).Should().Be(1);
        output.Should().Contain($"scorecam {command}", "an example to copy");
    }

    [Test]
    public void Every_method_option_is_under_Method_with_its_default_and_allowed_values()
    {
        var (_, output, _) = CliRunner.Run("explain", "--help");
        string method = string.Join(' ', output[output.IndexOf("\nMethod:", StringComparison.Ordinal)..output.IndexOf("\nOutput:", StringComparison.Ordinal)]
            .Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)); // lines are wrapped
        foreach (var option in ScoreCam.Onnx.Methods.MethodCatalog.Options)
            method.Should().Contain($"--{option.Name} value").And.Contain($"default {option.DefaultText}");
    }

    [TestCase(new[] { "explain", "--modle", "x.onnx" }, "'--modle': did you mean --model?")]
    [TestCase(new[] { "explian" }, "'explian': did you mean explain?")]
    [TestCase(new[] { "explain", "--method", "gradcm" }, "unknown method 'gradcm' (did you mean 'gradcam'?)")]
    public void A_mistyped_name_gets_a_suggestion(string[] args, string hint)
    {
        var (code, _, error) = CliRunner.Run(args);
        code.Should().Be(CliApp.UsageError);
        error.Should().Contain(hint);
    }
}
