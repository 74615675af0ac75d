using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Models;

public class Float16ModelTests
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float, HalfType = (int)TensorProto.Types.DataType.Float16;

    [Test]
    public void The_copy_holds_float16_weights_behind_float32_inputs_and_outputs()
    {
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        ModelProto half = ModelProto.Parser.ParseFrom(Float16Model.Convert(model));

        half.Graph.Initializer.Should().NotBeEmpty().And.OnlyContain(t => t.DataType == HalfType);
        half.Graph.Input.Single(i => i.Name == model.Input.Name).Type.TensorType.ElemType.Should().Be(FloatType);
        half.Graph.Output.Should().OnlyContain(o => o.Type.TensorType.ElemType == FloatType);
        half.Graph.Node[0].OpType.Should().Be("Cast");
        half.Graph.Node.Count(n => n.OpType == "Cast").Should().Be(1 + half.Graph.Output.Count);
    }

    [Test]
    public void Scores_and_activations_agree_with_float32_to_float16_precision()
    {
        // The squares model's weights (1/16, 40, 0.5) and inputs (0, 1) are exact in float16; each of its few
        // operations rounds once, so every value is within a few float16 units (2^-11 relative) of float32's.
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        using var full = new ModelSession(model);
        using var half = new ModelSession(model, new InferenceOptions { Float16 = true });
        ImageTensor image = TestModels.TwoSquares();
        var a = full.Forward(image);
        var b = half.Forward(image);
        for (int i = 0; i < a.Scores.Length; i++) b.Scores[i].Should().BeApproximately(a.Scores[i], 4e-3f * Math.Max(1f, Math.Abs(a.Scores[i])));
        for (int i = 0; i < a.Activations.Length; i++) b.Activations[i].Should().BeApproximately(a.Activations[i], 4e-3f * Math.Max(1f, Math.Abs(a.Activations[i])));
    }

    [Test]
    public void The_default_models_float16_score_cam_map_ranks_pixels_as_float32s_does()
    {
        string path = Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");
        ExplainerOptions Options(bool float16) => new()
        {
            Method = new ScoreCamMethod(new ScoreCamOptions { MaxChannels = 8 }),
            Inference = new InferenceOptions { Float16 = float16 },
        };
        using var full = CamExplainer.Open(path, Options(false));
        using var half = CamExplainer.Open(path, Options(true));
        using var picture = full.LoadImage(Repository.Path("onnx-models", "fashion-clutter", "sample.png"));
        ImageTensor input = full.Preprocess(picture);
        Explanation a = full.Explain(input), b = half.Explain(input);

        b.Prediction.Index.Should().Be(a.Prediction.Index);
        RankCorrelation.Spearman(a.Heatmap.Values, b.Heatmap.Values).Should().BeGreaterThan(0.99);
        float max = a.Map.Values.Max(), maxHalf = b.Map.Values.Max();
        a.Map.Values.Zip(b.Map.Values, (x, y) => Math.Abs(x / max - y / maxHalf)).Max().Should().BeLessThan(0.05f);
    }
}
