using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Vision transformers' target layers against PyTorch: the tiny random-init ViT (opset 17 with LayerNormalization,
/// opset 14 with LayerNorm decomposed), a DeiT-layout ViT (class and distillation tokens) and a Swin (channels-last
/// maps) of Fixtures/transformers, all exported with a dynamic batch (the ViTs read the input's Shape for their class
/// token). The references (tools/export/export_tiny_transformers.py) hook the last block's norm1: its output
/// reshaped to maps, dY/dA by autograd with every other path (the residual stream) as it is, the input gradient dY/dx,
/// Grad-CAM, and Score-CAM,
/// Ablation-CAM and Recipro-CAM from plain PyTorch loops (the latter two alter the layer's output with a forward hook);
/// compared within 1e-3 after division by the maximum.
/// </summary>
public class TransformerReferenceTests
{
    public static readonly string[] Models = { "tiny-vit", "tiny-vit-opset14", "tiny-deit", "tiny-swin" };

    internal static string ModelPath(string name) => Repository.Path("tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures", "transformers", name + ".onnx");

    private static JsonElement Reference(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(ModelPath(name), ".reference.json"))).RootElement;

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static void ShouldMatch(IEnumerable<float> mine, double[] theirs, string what)
    {
        double scale = theirs.Max(Math.Abs);
        scale.Should().BeGreaterThan(0, what);
        double[] values = mine.Select(v => (double)v).ToArray();
        TestContext.Out.WriteLine($"{what}: max difference {values.Zip(theirs, (a, b) => Math.Abs(a - b)).Max() / scale:E1} of the maximum");
        values.Should().Equal(theirs, (a, b) => Math.Abs(a - b) <= 1e-3 * scale, what);
    }

    [TestCaseSource(nameof(Models))]
    public void The_automatic_layer_is_the_last_blocks_norm1_read_as_maps_on_the_patch_grid(string name)
    {
        JsonElement reference = Reference(name);
        PreparedModel model = ModelPreparer.Prepare(ModelPath(name));
        model.Layer.TensorName.Should().Be(reference.GetProperty("layer").GetString());
        new[] { model.Layer.Channels, model.Layer.Height, model.Layer.Width }.Should().Equal(reference.GetProperty("maps_shape").EnumerateArray().Select(e => e.GetInt32()));
        model.Layer.Layout.Should().Be(name == "tiny-swin" ? LayerLayout.ChannelsLast : LayerLayout.Tokens);
        model.Layer.PrefixTokens.Should().Be(name switch { "tiny-deit" => 2, "tiny-swin" => 0, _ => 1 });
        model.SupportsBatching.Should().BeTrue("the exports have a dynamic batch");

        using var session = new ModelSession(model);
        var (scores, activations, _, _, _) = session.Forward(Support.Reference.SineInput(32));
        ShouldMatch(scores, Doubles(reference.GetProperty("logits")), "logits");
        ShouldMatch(activations, Doubles(reference.GetProperty("activations")), "the maps of the hooked norm1");
    }

    [TestCaseSource(nameof(Models))]
    public void The_gradient_at_norm1_is_the_hooks_with_the_residual_stream_held(string name)
    {
        JsonElement reference = Reference(name);
        PreparedModel model = ModelPreparer.Prepare(ModelPath(name));
        ImageTensor image = Support.Reference.SineInput(32);
        using var gradients = GradientSession.ForHead(model);
        gradients.TakesImage.Should().BeTrue("norm1 is not a cut: the residual stream runs around it");
        foreach (JsonProperty target in reference.GetProperty("classes").EnumerateObject())
        {
            var seed = new float[model.OutputSize];
            seed[int.Parse(target.Name)] = 1;
            float[] g = gradients.Run(image.Data, seed).Gradients;
            ShouldMatch(g, Doubles(target.Value.GetProperty("gradient")), $"dY_{target.Name}/dA");
        }
    }

    [TestCaseSource(nameof(Models))]
    public void The_input_gradient_agrees_with_PyTorch_autograd(string name)
    {
        JsonElement reference = Reference(name);
        PreparedModel model = ModelPreparer.Prepare(ModelPath(name));
        ImageTensor image = Support.Reference.SineInput(32);
        using var gradients = GradientSession.ForInput(model, 32, 32, guided: false);
        foreach (JsonProperty target in reference.GetProperty("classes").EnumerateObject())
        {
            var seed = new float[model.OutputSize];
            seed[int.Parse(target.Name)] = 1;
            ShouldMatch(gradients.Run(image.Data, seed).Gradients, Doubles(target.Value.GetProperty("input_gradient")), $"{name} dY_{target.Name}/dx");
        }
    }

    [TestCaseSource(nameof(Models))]
    public void Grad_CAM_Score_CAM_Ablation_CAM_and_Recipro_CAM_agree_with_PyTorch(string name)
    {
        JsonElement reference = Reference(name);
        using var explainer = new CamExplainer(ModelPreparer.Prepare(ModelPath(name)));
        ImageTensor image = Support.Reference.SineInput(32);
        foreach (JsonProperty target in reference.GetProperty("classes").EnumerateObject())
        {
            var c = ExplanationTarget.Class(int.Parse(target.Name));
            foreach (var (method, key) in new (IExplanationMethod, string)[]
                     { (new GradCamMethod(), "gradcam"), (new ScoreCamMethod(), "scorecam"), (new AblationCamMethod(), "ablationcam"), (new ReciproCamMethod(), "reciprocam") })
            {
                Explanation explanation = explainer.Explain(image, c, method);
                // The channel weights too: a map can be all zeros after the ReLU (normalised tokens have zero mean over their channels).
                if (target.Value.TryGetProperty(key + "_weights", out JsonElement weights))
                    ShouldMatch(explanation.ChannelWeights, Doubles(weights), $"{key} weights of class {target.Name}");
                double[] theirs = Doubles(target.Value.GetProperty(key));
                double scale = Math.Max(theirs.Max(), 1e-6);
                TestContext.Out.WriteLine($"{name} {key} map of class {target.Name}: max difference " +
                    $"{explanation.Map.Values.Zip(theirs, (a, b) => Math.Abs(a - b)).Max() / scale:E1} of the maximum {theirs.Max():G3}");
                explanation.Map.Values.Select(v => (double)v).Should().Equal(theirs, (a, b) => Math.Abs(a - b) <= 1e-3 * scale, $"{key} of class {target.Name}");
            }
        }
    }

    [Test]
    public void The_layers_command_lists_token_and_channels_last_layers_with_their_grid()
    {
        var vit = CliRunner.Run("layers", "--model", ModelPath("tiny-deit"));
        vit.Code.Should().Be(0, vit.Err);
        vit.Out.Should().MatchRegex(@"\* /encoder/layers/encoder_layer_1/ln_1/LayerNormalization_output_0\s+LayerNormalization\s+1x18x16\s+\(tokens: 2 prefix \+ 4x4 grid, 16 channels\)");
        vit.Out.Should().Contain("/conv_proj/Conv_output_0").And.Contain("/encoder/ln/LayerNormalization_output_0");
        var swin = CliRunner.Run("layers", "--model", ModelPath("tiny-swin"));
        swin.Out.Should().MatchRegex(@"\* /features/features.3/features.3.1/norm1/LayerNormalization_output_0\s+LayerNormalization\s+1x4x4x16\s+\(channels last: 4x4 grid, 16 channels\)");
    }

    [Test]
    public void A_token_layer_named_by_hand_and_a_saved_prepared_model_keep_their_layout()
    {
        using var folder = new TempFolder();
        string layer = "/encoder/layers/encoder_layer_0/ln_2/LayerNormalization_output_0";
        PreparedModel model = ModelPreparer.Prepare(ModelPath("tiny-deit"), new ModelPreparationOptions { Layer = layer });
        model.Layer.Should().Be(new TargetLayer(layer, "/encoder/layers/encoder_layer_0/ln_2/LayerNormalization", "LayerNormalization", 16, 4, 4)
            { Layout = LayerLayout.Tokens, PrefixTokens = 2 });
        string saved = Path.Combine(folder.Path, "deit.cam.onnx");
        model.Save(saved);
        PreparedModel again = ModelPreparer.Prepare(saved);
        again.Layer.Should().Be(model.Layer);
        using var first = new ModelSession(model);
        using var second = new ModelSession(again);
        ImageTensor image = Support.Reference.SineInput(32);
        second.Forward(image).Activations.Should().Equal(first.Forward(image).Activations);
    }
}
