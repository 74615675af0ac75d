using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.OnnxGraphBuilder;

namespace ScoreCam.Onnx.Tests.Models;

public class BatchSizePolicyTests
{
    // Float32 bytes of one image's tensors in the models below: the 3×8×8 input and each 4×8×8 map.
    private const long Input = 3 * 8 * 8 * 4, Map = 4 * 8 * 8 * 4;

    /// <summary>input → 3×3 conv → ReLU (the target layer) → global average pool → flatten, to 4 outputs.</summary>
    private static PreparedModel Chain(long? height = 8, long? width = 8, ModelPreparationOptions? options = null)
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, height, width);
        string conv = g.Node("Conv", new[] { x, g.Weights("w", Enumerable.Repeat(0.1f, 4 * 3 * 9).ToArray(), 4, 3, 3, 3) }, "conv", Ints("pads", 1, 1, 1, 1));
        string relu = g.Node("Relu", new[] { conv }, "relu");
        g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { relu }, "pooled") }, "output");
        g.Output("output", null, 4);
        return ModelPreparer.Prepare(g.Build(), "chain", options);
    }

    [Test]
    public void A_chain_peaks_at_the_input_and_one_op_s_input_and_output_maps()
    {
        // The conv output is released after the ReLU reads it; the ReLU output is kept as the activations output.
        BatchSizePolicy.Choose(Chain()).BytesPerImage.Should().Be(Input + 2 * Map);
    }

    [Test]
    public void A_residual_branch_keeps_its_skip_input_alive()
    {
        // stem → 1×1 conv → 1×1 conv → Add(…, stem): while the second conv runs, stem, its input and its output live.
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 8, 8);
        string stem = g.Node("Relu", new[] { g.Node("Conv", new[] { x, g.Weights("w0", Enumerable.Repeat(0.1f, 4 * 3 * 9).ToArray(), 4, 3, 3, 3) }, "c0", Ints("pads", 1, 1, 1, 1)) }, "stem");
        string c1 = g.Node("Conv", new[] { stem, g.Weights("w1", Enumerable.Repeat(0.05f, 16).ToArray(), 4, 4, 1, 1) }, "c1");
        string c2 = g.Node("Conv", new[] { c1, g.Weights("w2", Enumerable.Repeat(0.05f, 16).ToArray(), 4, 4, 1, 1) }, "c2");
        string block = g.Node("Relu", new[] { g.Node("Add", new[] { c2, stem }, "sum") }, "block");
        g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { block }, "pooled") }, "output");
        g.Output("output", null, 4);
        PreparedModel m = ModelPreparer.Prepare(g.Build(), "residual");

        BatchSizePolicy.Choose(m).BytesPerImage.Should().Be(Input + 3 * Map);
    }

    [Test]
    public void Shapes_are_learned_at_the_probe_size_when_the_model_leaves_it_open()
    {
        Chain(null, null, new ModelPreparationOptions { ProbeSize = (16, 16) }).IntermediateBytesPerImage.Should().Be(4 * (Input + 2 * Map));
    }

    [Test]
    public void The_estimate_survives_saving_and_the_saved_model_records_the_choice()
    {
        using var folder = new TempFolder();
        PreparedModel m = Chain();
        m.Save(folder.File("m.cam.onnx"));
        PreparedModel loaded = ModelPreparer.Prepare(folder.File("m.cam.onnx"));
        loaded.IntermediateBytesPerImage.Should().Be(Input + 2 * Map);
        var meta = loaded.Proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        meta["scorecam.batch_size"].Should().Be(BatchSizePolicy.MaxBatchSize.ToString());
        meta["scorecam.batch_size_reason"].Should().Be(BatchSizePolicy.Choose(m).Reason);
    }

    [Test]
    public void The_batch_is_as_many_images_as_fit_the_budget_up_to_the_maximum()
    {
        PreparedModel m = Chain();
        long perImage = Input + 2 * Map;

        BatchSizeChoice three = BatchSizePolicy.Choose(m, 4 * perImage - 1);
        three.BatchSize.Should().Be(3);
        three.Reason.Should().Contain("fit");
        BatchSizePolicy.Choose(m, 4 * perImage).BatchSize.Should().Be(4);

        BatchSizeChoice max = BatchSizePolicy.Choose(m, 1000 * perImage);
        max.BatchSize.Should().Be(BatchSizePolicy.MaxBatchSize);
        max.Reason.Should().Contain("maximum");

        BatchSizeChoice tooSmall = BatchSizePolicy.Choose(m, perImage - 1);
        tooSmall.BatchSize.Should().Be(1);
        tooSmall.Reason.Should().Contain("exceeds");
    }

    [Test]
    public void A_model_with_a_fixed_batch_gets_one_image_a_call()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", 1, 3, 8, 8);
        string relu = g.Node("Relu", new[] { g.Node("Conv", new[] { x, g.Weights("w", Enumerable.Repeat(0.1f, 2 * 3 * 9).ToArray(), 2, 3, 3, 3) }, "conv", Ints("pads", 1, 1, 1, 1)) }, "relu");
        g.Node("MatMul", new[] { g.Node("Reshape", new[] { relu, g.Int64s("shape", 1, 128) }, "flat"), g.Weights("fc", Enumerable.Repeat(0.01f, 256).ToArray(), 128, 2) }, "output");
        g.Output("output", 1, 2);
        PreparedModel m = ModelPreparer.Prepare(g.Build(), "baked");

        BatchSizeChoice choice = BatchSizePolicy.Choose(m, long.MaxValue);
        choice.BatchSize.Should().Be(1);
        choice.Reason.Should().Be("the model's export fixes its batch size at 1");
    }

    [Test]
    public void A_budget_must_be_positive()
    {
        FluentActions.Invoking(() => BatchSizePolicy.Choose(Chain(), 0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
