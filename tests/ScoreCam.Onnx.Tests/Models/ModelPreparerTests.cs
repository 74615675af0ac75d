using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Models;

public class ModelPreparerTests
{
    [Test]
    public void Finds_input_output_and_the_last_conv_block_after_its_activation()
    {
        PreparedModel m = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        m.Input.Should().Be(new ImageInputSpec("input", 3, TestModels.Size, TestModels.Size));
        m.OutputName.Should().Be("output");
        m.OutputSize.Should().Be(TestModels.Classes);
        m.OutputKind.Should().Be(ModelOutputKind.Logits);
        m.Layer.TensorName.Should().Be(TestModels.TargetLayer);
        m.Layer.OpType.Should().Be("Relu");
        (m.Layer.Channels, m.Layer.Height, m.Layer.Width).Should().Be((4, 8, 8));
        m.SupportsBatching.Should().BeTrue();
    }

    [Test]
    public void A_batch_fixed_at_one_is_made_symbolic()
    {
        PreparedModel m = ModelPreparer.Prepare(TestModels.ColouredSquares(batch: 1).Build(), "fixed");
        m.SupportsBatching.Should().BeTrue();
        m.Warnings.Should().BeEmpty();
    }

    [Test]
    public void A_batch_baked_into_a_reshape_falls_back_to_one_image_at_a_time_and_says_so()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", 1, 3, 8, 8);
        string conv = g.Node("Conv", new[] { x, g.Weights("w", Enumerable.Repeat(0.1f, 2 * 3 * 3 * 3).ToArray(), 2, 3, 3, 3) }, "conv", Ints("pads", 1, 1, 1, 1));
        string relu = g.Node("Relu", new[] { conv }, "relu");
        string flat = g.Node("Reshape", new[] { relu, g.Int64s("shape", 1, 128) }, "flat");
        g.Node("MatMul", new[] { flat, g.Weights("fc", Enumerable.Repeat(0.01f, 128 * 2).ToArray(), 128, 2) }, "output");
        g.Output("output", 1, 2);
        PreparedModel m = ModelPreparer.Prepare(g.Build(), "baked");
        m.SupportsBatching.Should().BeFalse();
        m.Warnings.Should().ContainSingle().Which.Should().Contain("one at a time");
        m.Layer.TensorName.Should().Be("relu");
    }

    [Test]
    public void A_model_exported_with_its_activations_is_used_as_it_is()
    {
        PreparedModel m = ModelPreparer.Prepare(TestModels.ColouredSquares(exportActivations: true).Build(), "exported");
        m.Layer.TensorName.Should().Be(TestModels.TargetLayer);
        m.OutputName.Should().Be("output");
        m.Proto.Graph.Output.Select(o => o.Name).Should().Equal("output", TestModels.TargetLayer);
    }

    [Test]
    public void A_softmax_head_is_detected_and_a_single_logit_is_recognised()
    {
        ModelPreparer.Prepare(TestModels.ColouredSquares(TestModels.Head.Softmax).Build(), "p").OutputKind.Should().Be(ModelOutputKind.Probabilities);
        ModelPreparer.Prepare(TestModels.ColouredSquares(TestModels.Head.SingleLogit).Build(), "s").OutputKind.Should().Be(ModelOutputKind.SingleLogit);
    }

    [Test]
    public void A_named_layer_is_used_by_tensor_or_node_name()
    {
        var options = new ModelPreparationOptions { Layer = "conv" };
        PreparedModel m = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "named", options);
        m.Layer.TensorName.Should().Be("conv");
        m.Layer.OpType.Should().Be("Conv");
    }

    [Test]
    public void A_class_map_head_is_not_taken_for_the_last_feature_layer()
    {
        // SqueezeNet-style: features → 1×1 conv to the class channels → ReLU → global pooling, no linear layer.
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 16, 16);
        string conv = g.Node("Conv", new[] { x, g.Weights("w1", Enumerable.Repeat(0.05f, 6 * 3 * 3 * 3).ToArray(), 6, 3, 3, 3) }, "conv1", Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1));
        string features = g.Node("Relu", new[] { conv }, "features");
        string classes = g.Node("Conv", new[] { features, g.Weights("w2", Enumerable.Repeat(0.1f, 5 * 6).ToArray(), 5, 6, 1, 1) }, "classifier_conv");
        string relu = g.Node("Relu", new[] { classes }, "class_maps");
        string pooled = g.Node("GlobalAveragePool", new[] { relu }, "pooled");
        g.Node("Flatten", new[] { pooled }, "output");
        g.Output("output", null, 5);
        var layers = ModelPreparer.Prepare(g.Build(), "squeeze").Layer;
        layers.TensorName.Should().Be("features");
    }

    [Test]
    public void An_embedding_trunk_whose_width_equals_its_output_keeps_its_last_residual_block()
    {
        // ResNet-trunk style: the pooled 4-channel output has as many values as the last block has channels, but the
        // block ends in a residual Add, so it is the feature layer, not a class-map head.
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 8, 8);
        string stem = g.Node("Relu", new[] { g.Node("Conv", new[] { x, g.Weights("w0", Enumerable.Repeat(0.1f, 4 * 3 * 9).ToArray(), 4, 3, 3, 3) }, "c0", Ints("pads", 1, 1, 1, 1)) }, "stem");
        string conv = g.Node("Conv", new[] { stem, g.Weights("w1", Enumerable.Repeat(0.05f, 4 * 4).ToArray(), 4, 4, 1, 1) }, "c1");
        string sum = g.Node("Add", new[] { conv, stem }, "sum");
        string block = g.Node("Relu", new[] { sum }, "block");
        g.Node("GlobalAveragePool", new[] { block }, "output");
        g.Output("output", null, 4, 1, 1);
        ModelPreparer.Prepare(g.Build(), "trunk").Layer.TensorName.Should().Be("block");
    }

    [Test]
    public void A_multi_head_model_gets_the_last_layer_all_heads_share()
    {
        // YOLO-style: a shared trunk, then two heads (one at a coarser stride) whose flattened outputs are concatenated.
        // The last map in graph order sits in the second head; a map there leaves the first head's scores unchanged.
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 16, 16);
        string trunk = g.Node("Relu", new[] { g.Node("Conv", new[] { x, g.Weights("w0", Enumerable.Repeat(0.1f, 4 * 3 * 9).ToArray(), 4, 3, 3, 3) }, "c0", Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)) }, "trunk");
        string headA = g.Node("Relu", new[] { g.Node("Conv", new[] { trunk, g.Weights("wa", Enumerable.Repeat(0.2f, 2 * 4).ToArray(), 2, 4, 1, 1) }, "ca") }, "head_a");
        string deep = g.Node("Relu", new[] { g.Node("Conv", new[] { trunk, g.Weights("wd", Enumerable.Repeat(0.1f, 4 * 4 * 9).ToArray(), 4, 4, 3, 3) }, "cd", Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)) }, "deep");
        string headB = g.Node("Relu", new[] { g.Node("Conv", new[] { deep, g.Weights("wb", Enumerable.Repeat(0.2f, 2 * 4).ToArray(), 2, 4, 1, 1) }, "cb") }, "head_b");
        // The second head's flattening reads the first head's shape (as exporters write Reshape to a computed shape):
        // shape arithmetic is no data path around the trunk.
        string shapeA = g.Node("Shape", new[] { headA }, "shape_a");
        string flatA = g.Node("Reshape", new[] { headA, g.Int64s("flat2", 0, 2, -1) }, "flat_a");
        string flatB = g.Node("Reshape", new[] { headB, g.Node("Concat", new[] { g.Node("Slice", new[] { shapeA, g.Int64s("s0", 0), g.Int64s("s2", 2) }, "dims"), g.Int64s("m1", -1) }, "shape_b", Int("axis", 0)) }, "flat_b");
        g.Node("Concat", new[] { flatA, flatB }, "output", Int("axis", 2));
        g.Output("output", null, 2, 80);

        ModelPreparer.Prepare(g.Build(), "heads").Layer.TensorName.Should().Be("trunk");
        ModelPreparer.ListLayers(g.Build(), "heads").Select(l => l.TensorName).Should().Contain(new[] { "head_a", "deep", "head_b" }, "the heads' maps stay listed");
    }

    [Test]
    public void The_tiny_detector_gets_the_last_map_its_two_heads_share()
    {
        string path = Repository.Path("onnx-models", "tiny-detector", "tiny-detector.onnx");
        ModelPreparer.Prepare(path).Layer.TensorName.Should().Be("/stage2/stage2.1/stage2.1.2/Mul_output_0");
        ModelPreparer.ListLayers(path).Single(l => l.IsAutomaticChoice).TensorName.Should().Be("/stage2/stage2.1/stage2.1.2/Mul_output_0");
    }

    [Test]
    public void The_tiny_segmenter_gets_its_last_feature_map_not_its_classifier_conv()
    {
        // Its classifier conv gives the 11 class maps that a Resize brings to the output: the classifier, not a feature layer.
        string path = Repository.Path("onnx-models", "tiny-segmenter", "tiny-segmenter.onnx");
        ModelPreparer.Prepare(path, new ModelPreparationOptions { OutputName = "out" }).Layer.TensorName.Should().Be("/fuse/fuse.1/fuse.1.2/Relu_output_0");
    }

    [Test]
    public void Save_and_load_keep_what_was_found()
    {
        using var folder = new TempFolder();
        PreparedModel m = ModelPreparer.Prepare(TestModels.ColouredSquares(TestModels.Head.Softmax, batch: 1).Build(), "squares");
        m.Save(folder.File("m.cam.onnx"));
        PreparedModel loaded = ModelPreparer.Prepare(folder.File("m.cam.onnx"));
        loaded.Layer.Should().Be(m.Layer);
        loaded.Input.Should().Be(m.Input);
        (loaded.OutputName, loaded.OutputSize, loaded.OutputKind, loaded.SupportsBatching).Should().Be((m.OutputName, m.OutputSize, m.OutputKind, m.SupportsBatching));
        folder.Files().Should().ContainSingle("no temporary file is left behind");
    }

    [Test]
    public void Errors_say_what_is_wrong()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("text.onnx"), "this is not a model\n");

        Invoking(() => ModelPreparer.Prepare(folder.File("missing.onnx"))).Should().Throw<ScoreCamException>().WithMessage("*does not exist*");
        Invoking(() => ModelPreparer.Prepare(folder.File("text.onnx"))).Should().Throw<ScoreCamException>().WithMessage("*is not an ONNX model*");
        Invoking(() => ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "m", new ModelPreparationOptions { Layer = "nonexistent" }))
            .Should().Throw<ScoreCamException>().WithMessage("*no layer*'nonexistent'*spatial layers, last first:*");

        var flat = new OnnxGraphBuilder();
        flat.Node("Relu", new[] { flat.Input("input", null, 10) }, "output");
        flat.Output("output", null, 10);
        Invoking(() => ModelPreparer.Prepare(flat.Build(), "flat")).Should().Throw<ScoreCamException>().WithMessage("*no image-like input*");

        var pooledOnly = new OnnxGraphBuilder();
        string pooled = pooledOnly.Node("GlobalAveragePool", new[] { pooledOnly.Input("input", null, 3, 8, 8) }, "pooled");
        pooledOnly.Node("Flatten", new[] { pooled }, "output");
        pooledOnly.Output("output", null, 3);
        Invoking(() => ModelPreparer.Prepare(pooledOnly.Build(), "pooled")).Should().Throw<ScoreCamException>().WithMessage("*no spatial layer*");

    }

    [Test]
    public void Lists_candidate_layers_in_graph_order_with_the_automatic_choice_marked()
    {
        using var folder = new TempFolder();
        string path = TestModels.ColouredSquares().Save(folder.File("m.onnx"));
        var layers = ModelPreparer.ListLayers(path);
        layers.Select(l => l.TensorName).Should().Equal("conv", TestModels.TargetLayer);
        layers.Single(l => l.IsAutomaticChoice).TensorName.Should().Be(TestModels.TargetLayer);
        layers[1].Shape.Should().Equal(1L, 4L, 8L, 8L);
    }

    private static Action Invoking(Action a) => a;
}
