using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Methods.References;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>HiResCAM (the catalogue's "hirescam") against the PyTorch reference of its definition, ReLU(Σ_k dY/dA_k ⊙ A_k).</summary>
public class HiResCamTests
{
    [TestCase(MethodReference.DefaultModel)]
    [TestCase(MethodReference.ResNet18)]
    public void Matches_the_reference(string model) => MethodReference.Check(model, "hirescam", MethodCatalog.Create("hirescam"));

    [Test]
    public void The_command_line_explains_with_it()
    {
        using var folder = new Support.TempFolder();
        string json = folder.File("e.json");
        var error = new StringWriter();
        ScoreCam.Onnx.Cli.CliApp.Run(new[] { "explain", "--method", "hirescam", "--json", json, "--quiet" }, new StringWriter(), error).Should().Be(0, error.ToString());
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("method").GetString().Should().Be("hirescam");
    }

    [Test]
    public void Equals_Grad_CAM_where_the_head_is_global_average_pooling_and_differs_before_it()
    {
        // Draelos and Carin (section 3): with global average pooling then a linear layer after A, dY/dA_k is constant
        // over space, so HiResCAM's map is Grad-CAM's; a layer further back has spatially varying gradients.
        string model = MethodReference.DefaultModel;
        ImageTensor input = MethodReference.Input(model);
        var target = ExplanationTarget.Class(MethodReference.Classes(model).First());
        double Difference(CamExplainer explainer) => Support.Reference.MinMax(explainer.Explain(input, target, new HiResCamMethod()).Map.Values.Select(v => (double)v))
            .Zip(Support.Reference.MinMax(explainer.Explain(input, target, new GradCamMethod()).Map.Values.Select(v => (double)v)), (a, b) => Math.Abs(a - b)).Max();
        using (var atHead = CamExplainer.Open(MethodReference.ModelPath(model)))
            Difference(atHead).Should().BeLessThan(1e-4);
        using var earlier = CamExplainer.Open(MethodReference.ModelPath(model),
            new ExplainerOptions { Preparation = new ScoreCam.Onnx.Models.ModelPreparationOptions { Layer = "/layer3/layer3.0/Relu_1_output_0" } });
        Difference(earlier).Should().BeGreaterThan(0.05);
    }
}
