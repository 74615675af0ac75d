using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>Image inputs as exporters write them: channels-last, integer, several, or with company.</summary>
public class ModelInputTests
{
    /// <summary>The coloured-squares classifier behind an N×H×W×C input and the Transpose tf2onnx puts first.</summary>
    private static OnnxGraphBuilder ChannelsLastSquares()
    {
        OnnxGraphBuilder g = TestModels.ColouredSquares();
        ValueInfoProto input = g.Graph.Input[0];
        input.Name = "image";
        var dims = input.Type.TensorType.Shape.Dim;
        var (n, c, h, w) = (dims[0], dims[1], dims[2], dims[3]);
        dims.Clear();
        dims.Add(new[] { n, h, w, c });
        g.Graph.Node.Insert(0, new NodeProto { OpType = "Transpose", Name = "tf_transpose", Input = { "image" }, Output = { "input" }, Attribute = { Ints("perm", 0, 3, 1, 2) } });
        return g;
    }

    [Test]
    public void A_channels_last_model_takes_channels_first_images_and_gives_the_same_outputs()
    {
        PreparedModel nhwc = ModelPreparer.Prepare(ChannelsLastSquares().Build(), "nhwc");
        nhwc.ExportedLayout.Should().Be(InputLayout.ChannelsLast);
        nhwc.Input.Should().Be(new ImageInputSpec("image", 3, TestModels.Size, TestModels.Size));
        nhwc.Warnings.Should().ContainSingle().Which.Should().Contain("'image' is channels-last").And.Contain("takes N×C×H×W");
        nhwc.Layer.TensorName.Should().Be(TestModels.TargetLayer);
        nhwc.SupportsBatching.Should().BeTrue();

        ForwardPass.ShouldEqual(nhwc, ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "nchw"), TestModels.TwoSquares());
    }

    [Test]
    public void The_exported_layout_survives_save_and_load()
    {
        using var folder = new TempFolder();
        ModelPreparer.Prepare(ChannelsLastSquares().Build(), "nhwc").Save(folder.File("m.cam.onnx"));
        PreparedModel loaded = ModelPreparer.Prepare(folder.File("m.cam.onnx"));
        loaded.ExportedLayout.Should().Be(InputLayout.ChannelsLast);
        loaded.Input.Should().Be(new ImageInputSpec("image", 3, TestModels.Size, TestModels.Size));
    }

    [Test]
    public void Inputs_that_cannot_be_fed_are_refused_by_name_with_what_to_do()
    {
        OnnxGraphBuilder integer = TestModels.ColouredSquares();
        integer.Graph.Input[0].Name = "pixels";
        integer.Graph.Input[0].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Uint8;
        integer.Graph.Node.Insert(0, new NodeProto { OpType = "Cast", Name = "cast", Input = { "pixels" }, Output = { "input" }, Attribute = { Int("to", 1) } });
        Prepare(integer).Should().Throw<ScoreCamException>().WithMessage("*'pixels'*takes uint8 tensors*float32*Re-export*");

        OnnxGraphBuilder extra = TestModels.ColouredSquares();
        string scale = extra.Input("temperature", 1);
        extra.Graph.Node.Single(n => n.Output[0] == "output").Output[0] = "raw";
        extra.Node("Div", new[] { "raw", scale }, "output");
        Prepare(extra).Should().Throw<ScoreCamException>().WithMessage("*needs input 'temperature' [1] float besides its image 'input'*ModelPreparationOptions.Feeds[\"temperature\"]*");

        OnnxGraphBuilder two = TestModels.ColouredSquares();
        two.Node("Add", new[] { two.Input("other", null, 3, TestModels.Size, TestModels.Size), "input" }, "unused");
        Prepare(two).Should().Throw<ScoreCamException>().WithMessage("*several image-like inputs (input, other)*name one*");
        Prepare(two, new ModelPreparationOptions { InputName = "input" }).Should().Throw<ScoreCamException>().WithMessage("*needs input 'other' [?×3×32×32] float besides its image 'input'*ModelPreparationOptions.Feeds[\"other\"]*");
    }

    [Test]
    public void A_custom_operator_domain_is_refused_naming_node_op_and_domain()
    {
        OnnxGraphBuilder custom = TestModels.ColouredSquares();
        custom.Graph.Node.Single(n => n.OpType == "Relu").Domain = "com.example.ops";
        Prepare(custom).Should().Throw<ScoreCamException>().WithMessage("*Node 'Relu_*custom operator 'Relu' from domain 'com.example.ops'*standard ONNX operators*");
    }

    private static Action Prepare(OnnxGraphBuilder g, ModelPreparationOptions? options = null) => () => ModelPreparer.Prepare(g.Build(), "m", options);
}
