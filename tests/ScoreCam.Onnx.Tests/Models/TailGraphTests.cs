using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>The model from its target layer on (Ablation-CAM's and Recipro-CAM's forward passes).</summary>
public class TailGraphTests
{
    [Test]
    public void The_default_models_tail_gives_the_committed_logits_from_the_committed_activations()
    {
        PreparedModel model = ModelPreparer.Prepare(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        var (activations, shape) = NpyFile.Read(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.activations.npy"));
        var (logits, _) = NpyFile.Read(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.logits.npy"));
        shape.Should().Equal(2, model.Layer.Channels, model.Layer.Height, model.Layer.Width);
        using var tail = new TailSession(model);
        var rows = new float[2 * model.OutputSize];
        tail.Run(activations, 2, rows);
        rows.Should().Equal(logits, (a, b) => Math.Abs(a - b) <= 1e-4f * Math.Max(1f, Math.Abs(b)), "the same two inputs, run from the layer on");
    }

    /// <summary>y = GAP(A) + GAP(x) with A = ReLU(x): the tail runs altered A with the skip path at the image's own value.</summary>
    [Test]
    public void A_skip_connection_around_the_layer_keeps_its_value_for_the_image()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 8, 8);
        string features = g.Node("Relu", new[] { x }, "features");
        string pooled = g.Node("GlobalAveragePool", new[] { features }, "pooled");
        string around = g.Node("GlobalAveragePool", new[] { x }, "around");
        string sum = g.Node("Add", new[] { pooled, around }, "sum");
        g.Node("Flatten", new[] { sum }, "output");
        g.Output("output", null, 3);
        PreparedModel model = ModelPreparer.Prepare(g.Build(), "skip.onnx", new ModelPreparationOptions { Layer = "features", ProbeSize = (8, 8) });
        using var tail = new TailSession(model);
        tail.TakesImage.Should().BeTrue();
        float[] image = Enumerable.Range(0, 192).Select(i => (float)Math.Sin(i)).ToArray();
        float[] altered = Enumerable.Range(0, 2 * 192).Select(i => (float)Math.Cos(0.3 * i)).ToArray();
        var rows = new float[2 * 3];

        tail.Run(altered, 2, rows, new ImageTensor(image, 3, 8, 8));

        var expected = Enumerable.Range(0, 6).Select(r => altered.Skip(r * 64).Take(64).Average() + image.Skip(r % 3 * 64).Take(64).Average());
        rows.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-5f);
    }
}
