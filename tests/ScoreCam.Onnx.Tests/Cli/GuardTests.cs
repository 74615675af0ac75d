using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>
/// Every command driven with broken inputs and option values: one line on stderr starting "error:", the exit code of
/// its kind (1 bad input, 2 bad usage), no stack trace, and nothing written.
/// </summary>
public class GuardTests
{
    private static readonly TempFolder Folder = new();
    private static string F(string name) => Folder.File(name);

    [OneTimeSetUp]
    public void CreateInputs()
    {
        TestModels.ColouredSquares().Save(F("m.onnx"));
        NpyFile.Write(F("x.npy"), TestModels.TwoSquares().Data, 1, 3, TestModels.Size, TestModels.Size);
        File.WriteAllText(F("text.onnx"), "not a model");
        File.WriteAllText(F("text.npy"), "not a tensor");
        File.WriteAllLines(F("two-labels.txt"), new[] { "red", "green" });
        Directory.CreateDirectory(F("folder"));

        // 0/0 in the head: NaN scores for every input.
        OnnxGraphBuilder nan = TestModels.ColouredSquares();
        nan.Graph.Node.Single(n => n.Output[0] == "output").Output[0] = "logits";
        string zero = nan.Node("Sub", new[] { "logits", "logits" }, "zero");
        nan.Node("Div", new[] { zero, zero }, "output");
        nan.Save(F("nan.onnx"));
    }

    [OneTimeTearDown]
    public void Delete() => Folder.Dispose();

    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(int code, string message, params string[] args) =>
            new TestCaseData(args, code, message).SetName($"{{m}}({string.Join(' ', args).Replace('.', '_')})");
        string[] With(string model, string tensor, params string[] more) => new[] { "explain", "--model", model, "--tensor", tensor }.Concat(more).ToArray();
        string[] X(params string[] more) => With("MODEL", "TENSOR", more);

        // Bad input (exit 1).
        yield return Case(1, "does not exist", With("missing.onnx", "TENSOR"));
        yield return Case(1, "not an ONNX model", With("text.onnx", "TENSOR"));
        yield return Case(1, "not a NumPy .npy file", With("MODEL", "text.npy"));
        yield return Case(1, "returned NaN for output 0", With("nan.onnx", "TENSOR", "--json", "out/r.json"));
        yield return Case(1, "has 2 labels but the model has 3 classes", X("--labels", "two-labels.txt"));
        yield return Case(1, "out of range", X("--target", "5000"));
        yield return Case(1, "no layer", X("--layer", "nonexistent"));
        yield return Case(1, "is a folder", X("--out", "folder"));
        yield return Case(1, "is a folder", X("--json", "folder"));
        yield return Case(1, "does not exist", "prepare", "--model", "missing.onnx");
        yield return Case(1, "is a folder", "prepare", "--model", "m.onnx", "--out", "folder");
        yield return Case(1, "not an ONNX model", "layers", "--model", "text.onnx");
        yield return Case(1, "annotations", "evaluate", "--model", "m.onnx", "--set", "folder");

        // Bad usage (exit 2).
        yield return Case(2, "--rise-masks must be an integer from 1 to 100000; got '0'", X("--method", "rise", "--rise-masks", "0"));
        yield return Case(2, "--rise-masks must be an integer from 1 to 100000", X("--method", "rise", "--rise-masks", "2000000000"));
        yield return Case(2, "--batch must be between 1", X("--batch", "0"));
        yield return Case(2, "--batch must be between 1", X("--batch", "-3"));
        yield return Case(2, "--batch must be between 1", X("--batch", "100000000"));
        yield return Case(2, "--batch", X("--batch", "many"));
        yield return Case(2, "--channels must be all or an integer from 1 to 100000", X("--channels", "0"));
        yield return Case(2, "--size must be N or WxH", X("--size", "0"));
        yield return Case(2, "--size must be N or WxH", X("--size", "32x"));
        yield return Case(2, "over the --max-megapixels limit", X("--size", "100000"));
        yield return Case(2, "--mean must be three", X("--mean", "1,2"));
        yield return Case(2, "--mean must be three finite", X("--mean", "nan,0,0"));
        yield return Case(2, "--std values must be positive", X("--std", "0,1,1"));
        yield return Case(2, "--std must be three finite", X("--std", "1,inf,1"));
        yield return Case(2, "--scale must be 1 or 255", X("--scale", "2"));
        yield return Case(2, "--max-megapixels must be a positive", X("--max-megapixels", "-1"));
        yield return Case(2, "--max-megapixels must be a positive", X("--max-megapixels", "Infinity"));
        yield return Case(2, "unknown method 'scorcam' (did you mean 'scorecam'?)", X("--method", "scorcam"));
        yield return Case(2, "--device must be", X("--device", "gpu"));
        yield return Case(2, "--colormap must be", X("--colormap", "rainbow"));
        yield return Case(2, "either --image or --tensor", X("--image", "m.onnx"));
        yield return Case(2, "Unrecognized", X("--no-such-option"));
        yield return Case(2, "--runs must be at least 1", "bench", "--model", "m.onnx", "--runs", "0");
        yield return Case(2, "--precision must list distinct precisions", "bench", "--model", "m.onnx", "--precision", "fp32,FP32");
        yield return Case(2, "--threads must be 0", "bench", "--model", "m.onnx", "--threads", "-1");
        yield return Case(2, "--batch must list integers", "bench", "--model", "m.onnx", "--batch", "8,0");
        yield return Case(2, "--images must list integers between 1 and 1024", "bench", "--model", "m.onnx", "--images", "1,0");
        yield return Case(2, "--targets must list integers of at least 1", "bench", "--model", "m.onnx", "--targets", "two");
        yield return Case(2, "--targets 5: the model has 3 outputs", "bench", "--model", "m.onnx", "--targets", "1,5");
        yield return Case(2, "--channels must list integers of at least 1, or all", "bench", "--model", "m.onnx", "--channels", "all,-4");
        yield return Case(2, "--channels applies to the methods that declare it (scorecam, guided-scorecam)", "bench", "--model", "m.onnx", "--method", "gradcam", "--channels", "2");
        yield return Case(2, "unknown method", "bench", "--model", "m.onnx", "--method", "scorecam,nope");
        yield return Case(2, "--deletion-steps must be between 1", "evaluate", "--model", "m.onnx", "--set", "folder", "--deletion-steps", "0");
        yield return Case(2, "--limit must not be negative", "evaluate", "--model", "m.onnx", "--set", "folder", "--limit", "-1");
        yield return Case(2, "--timeout must be a positive number", "serve", "--model", "m.onnx", "--timeout", "Infinity");
        yield return Case(2, "--max-request-mb must be a positive number", "serve", "--model", "m.onnx", "--max-request-mb", "NaN");
        yield return Case(2, "--port must be between 0 and 65535", "serve", "--model", "m.onnx", "--port", "70000");
        yield return Case(2, "Unrecognized", "no-such-command");
    }

    [TestCaseSource(nameof(Cases))]
    public void A_broken_input_gets_one_line_and_its_exit_code(string[] args, int code, string message)
    {
        string[] resolved = args.Select(a => a switch
        {
            "MODEL" => F("m.onnx"),
            "TENSOR" => F("x.npy"),
            _ when a.StartsWith("--") || !(a.Contains('.') || a is "folder" || a.StartsWith("out/")) => a,
            _ => F(a),
        }).ToArray();
        var before = Folder.Files().ToHashSet();
        var output = new StringWriter();
        var error = new StringWriter();

        int exit = CliApp.Run(resolved, output, error);

        string stderr = error.ToString();
        (stderr + output).Should().NotContain("   at ", "no stack trace is ever printed");
        stderr.TrimEnd().Split('\n').Should().ContainSingle("the error is one line: {0}", stderr).Which.Should().StartWith("error: ").And.Contain(message);
        exit.Should().Be(code, stderr);
        Folder.Files().Should().BeEquivalentTo(before, "a failed command writes nothing");
    }

    [Test]
    public void An_unexpected_exception_is_an_internal_error_with_its_type_and_no_stack_trace()
    {
        var error = new StringWriter();
        int exit = CliApp.Guard(error, () => throw new InvalidOperationException("boom\n   at Somewhere()"));
        exit.Should().Be(CliApp.InternalError);
        error.ToString().Should().Be("error: internal error (InvalidOperationException: boom at Somewhere()). Please report it with the command line that caused it." + Environment.NewLine);
    }

    [Test]
    public void Missing_parent_folders_of_an_output_are_created()
    {
        string json = F("new/a/b/r.json");
        int exit = CliApp.Run(new[] { "explain", "--model", F("m.onnx"), "--tensor", F("x.npy"), "--json", json }, new StringWriter(), new StringWriter());
        exit.Should().Be(CliApp.Ok);
        File.Exists(json).Should().BeTrue();
        Directory.Delete(F("new"), recursive: true);
    }
}
