using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>The gradient methods through the `scorecam` command: prepare writes NAME.grad.onnx, explain --method uses it.</summary>
public class GradCamCliTests
{
    private TempFolder _folder = null!;
    private string _model = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public void Prepare_writes_the_gradient_graph_next_to_the_prepared_model()
    {
        var (code, output, error) = Run("prepare", "--model", _model);
        (code, error).Should().Be((0, ""));
        output.Should().Contain("squares.grad.onnx");
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(_folder.File("squares.grad.onnx")));
        graph.Graph.Input.Select(i => i.Name).Should().Equal("activations", "seed");
        graph.Graph.Output.Select(o => o.Name).Should().Equal("logits", "grad_activations");
    }

    [TestCase("gradcam")]
    [TestCase("gradcam++")]
    [TestCase("xgradcam")]
    [TestCase("layercam")]
    public void Explain_with_a_gradient_method_matches_the_library(string method)
    {
        Run("prepare", "--model", _model).Code.Should().Be(0);
        ImageTensor tensor = TestModels.TwoSquares();
        NpyFile.Write(_folder.File("x.npy"), tensor.Data, 1, 3, 32, 32);
        var (code, _, error) = Run("explain", "--model", _folder.File("squares.cam.onnx"), "--method", method, "--tensor", _folder.File("x.npy"),
            "--target", "0", "--json", _folder.File("r.json"));
        (code, error).Should().Be((0, ""));

        IExplanationMethod library = MethodCatalog.Create(method);
        using var explainer = CamExplainer.Open(_model, new ExplainerOptions { Method = library });
        float[] expected = explainer.Explain(tensor, ExplanationTarget.Class(0)).Map.Values;
        using var json = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        json.RootElement.GetProperty("method").GetString().Should().Be(method);
        json.RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle())
            .Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-5f);
    }
}
