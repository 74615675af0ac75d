using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>
/// Models with an input besides the image (paper section 5.5.3): the coloured-squares classifier whose logits are
/// divided by a fed "temperature" T, so that every raw score, every Score-CAM weight in raw mode and so the map are
/// the plain model's divided by T: an analytic check that the fed value reaches every pass.
/// </summary>
public class FedInputTests
{
    private const float T = 4f;

    /// <summary>
    /// The classifier with output = logits / temperature; temperature is [batch x 1] with the batch fixed at 1 as exporters
    /// write it, or (a fixed-shape export) both fixed at <paramref name="batch"/>, the image's baked into the graph too.
    /// </summary>
    private static byte[] Tempered(long batch = 1, long temperatureBatch = 1)
    {
        OnnxGraphBuilder g = TestModels.ColouredSquares(batch: batch, bakedBatch: batch > 1);
        string temperature = g.Input("temperature", temperatureBatch, 1);
        g.Graph.Node.Single(n => n.Output[0] == "output").Output[0] = "raw";
        g.Node("Div", new[] { "raw", temperature }, "output");
        return g.Build();
    }

    private static Dictionary<string, InputFeed> Feed(float value, params int[] shape) => new() { ["temperature"] = new InputFeed(new[] { value }, shape) };

    private static ScoreCamMethod RawScoreCam => new(new ScoreCamOptions { Scores = ScoreMode.RawScore });

    [Test]
    public void An_input_nothing_feeds_is_refused_naming_it_and_the_flag()
    {
        Action prepare = () => ModelPreparer.Prepare(Tempered(), "tempered");
        prepare.Should().Throw<ScoreCamException>().WithMessage("*needs input 'temperature' [1×1] float besides its image 'input'*ModelPreparationOptions.Feeds[\"temperature\"]*");
    }

    [Test]
    public void A_feed_of_the_wrong_shape_or_for_no_input_is_refused()
    {
        Action wrong = () => ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1, 1, 1) });
        wrong.Should().Throw<ScoreCamException>().WithMessage("*feed for input 'temperature' has shape [1×1×1]*takes [1×1]*[1×1] or [1]*");
        var two = new Dictionary<string, InputFeed> { ["temperature"] = new InputFeed(new[] { T, T }, 2) };
        Action rows = () => ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = two });
        rows.Should().Throw<ScoreCamException>().WithMessage("*shape [2]*one row*");
        var other = new Dictionary<string, InputFeed>(Feed(T, 1)) { ["tokens"] = new InputFeed(new[] { 1f }, 1) };
        Action unknown = () => ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = other });
        unknown.Should().Throw<ScoreCamException>().WithMessage("*no input named 'tokens'*temperature [1×1] float*");
        var image = new Dictionary<string, InputFeed>(Feed(T, 1)) { ["input"] = new InputFeed(new[] { 1f }, 1) };
        Action picture = () => ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = image });
        picture.Should().Throw<ScoreCamException>().WithMessage("*'input' is the image input*");
    }

    [TestCase(false, 1)]
    [TestCase(true, 1)]
    [TestCase(false, 2)]
    [TestCase(true, 2)]
    public void The_fed_value_reaches_the_unmasked_pass_and_every_masked_batch(bool deviceBuffers, int batch)
    {
        // Batches of 2 for 3 non-constant channels: one full batch and one partial; with device-resident buffers on the CPU too.
        var inference = new InferenceOptions { BatchSize = batch, DeviceResidentBuffers = deviceBuffers };
        PreparedModel fed = ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1) });
        fed.SupportsBatching.Should().BeTrue("the fed input's batch dimension is made symbolic with the image's");
        using var tempered = new CamExplainer(fed, new ExplainerOptions { Inference = inference });
        using var plain = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "plain"), new ExplainerOptions { Inference = inference });
        var image = TestModels.TwoSquares();

        float[] scores = tempered.Embed(image), reference = plain.Embed(image);
        scores.Should().Equal(reference.Select(v => v / T), (a, b) => Math.Abs(a - b) < 1e-5f);
        Explanation e = tempered.Explain(image, ExplanationTarget.Class(0), RawScoreCam), p = plain.Explain(image, ExplanationTarget.Class(0), RawScoreCam);
        e.ForwardPasses.Should().BeGreaterThan(batch);
        e.ChannelWeights.Should().Equal(p.ChannelWeights.Select(w => w / T), (a, b) => Math.Abs(a - b) < 1e-5f);
        e.Map.Values.Should().Equal(p.Map.Values.Select(v => v / T), (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Test]
    public void A_feed_without_its_batch_dimension_and_other_values_through_WithFeeds_give_the_same_numbers()
    {
        PreparedModel fed = ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1, 1) });
        using var withRow = new CamExplainer(fed.WithFeeds(Feed(T, 1)));
        using var other = new CamExplainer(fed.WithFeeds(Feed(2 * T, 1)));
        using var explainer = new CamExplainer(fed);
        var image = TestModels.TwoSquares();
        withRow.Embed(image).Should().Equal(explainer.Embed(image));
        other.Embed(image).Should().Equal(explainer.Embed(image).Select(v => v / 2), (a, b) => Math.Abs(a - b) < 1e-5f);
        Action unfed = () => fed.WithFeeds(new Dictionary<string, InputFeed>());
        unfed.Should().Throw<ScoreCamException>().WithMessage("*needs input 'temperature'*ModelPreparationOptions.Feeds*");
    }

    [Test]
    public void The_prepared_model_keeps_the_fed_input_and_takes_a_value_when_loaded()
    {
        using var folder = new TempFolder();
        string path = folder.File("tempered.cam.onnx");
        ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1) }).Save(path);
        Action unfed = () => ModelPreparer.Prepare(path);
        unfed.Should().Throw<ScoreCamException>().WithMessage("*needs input 'temperature'*");
        PreparedModel loaded = ModelPreparer.Prepare(path, new ModelPreparationOptions { Feeds = Feed(T, 1) });
        loaded.Feeds.Keys.Should().Equal("temperature");
        using var explainer = new CamExplainer(loaded, new ExplainerOptions { Inference = new InferenceOptions { BatchSize = 4 } });
        using var plain = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "plain"));
        var image = TestModels.TwoSquares();
        explainer.Explain(image, ExplanationTarget.Class(1), RawScoreCam).Map.Values
            .Should().Equal(plain.Explain(image, ExplanationTarget.Class(1), RawScoreCam).Map.Values.Select(v => v / T), (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Test]
    public void The_float16_copy_casts_the_fed_input_too()
    {
        PreparedModel fed = ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1) });
        using var half = new CamExplainer(fed, new ExplainerOptions { Inference = new InferenceOptions { Float16 = true } });
        using var single = new CamExplainer(fed);
        var image = TestModels.TwoSquares();
        half.Embed(image).Should().Equal(single.Embed(image), (a, b) => Math.Abs(a - b) < 1e-2f * Math.Max(1, Math.Abs(b)));
    }

    [TestCase("gradcam", 1)]
    [TestCase("gradcam", 3)]
    [TestCase("xgradcam", 1)]
    [TestCase("gradient", 1)]
    [TestCase("integrated-gradients", 2)]
    public void Gradient_methods_differentiate_with_the_fed_value_held_constant(string method, int batch)
    {
        // d(Y / T) = dY / T: the gradients, Grad-CAM's weights and the maps are the plain model's divided by T.
        var options = new ExplainerOptions { Inference = new InferenceOptions { BatchSize = batch } };
        using var tempered = new CamExplainer(ModelPreparer.Prepare(Tempered(), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1) }), options);
        using var plain = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "plain"), options);
        var image = TestModels.TwoSquares();
        Explanation e = tempered.Explain(image, ExplanationTarget.Class(0), MethodCatalog.Create(method));
        Explanation p = plain.Explain(image, ExplanationTarget.Class(0), MethodCatalog.Create(method));
        p.Map.Values.Max().Should().BeGreaterThan(0);
        e.ChannelWeights.Should().Equal(p.ChannelWeights.Select(w => w / T), (a, b) => Math.Abs(a - b) < 1e-5f * Math.Max(1, Math.Abs(b)));
        e.Map.Values.Should().Equal(p.Map.Values.Select(v => v / T), (a, b) => Math.Abs(a - b) < 1e-5f * Math.Max(1, p.Map.Values.Max()));
    }

    [TestCase("scorecam")]
    [TestCase("gradcam")]
    [TestCase("gradient")]
    public void A_fed_input_of_a_model_whose_export_fixes_the_batch_is_fed_to_every_padded_pass(string method)
    {
        PreparedModel fed = ModelPreparer.Prepare(Tempered(batch: 4, temperatureBatch: 4), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1) });
        fed.FixedBatchSize.Should().Be(4);
        using var tempered = new CamExplainer(fed);
        using var plain = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "plain"));
        var image = TestModels.TwoSquares();
        var settings = new MethodSettings().With(ScoreCamMethod.Scores, ScoreMode.RawScore);
        Explanation e = tempered.Explain(image, ExplanationTarget.Class(0), MethodCatalog.Create(method, settings));
        Explanation p = plain.Explain(image, ExplanationTarget.Class(0), MethodCatalog.Create(method, settings));
        p.Map.Values.Max().Should().BeGreaterThan(0);
        e.Map.Values.Should().Equal(p.Map.Values.Select(v => v / T), (a, b) => Math.Abs(a - b) < 1e-5f * Math.Max(1, p.Map.Values.Max()));
    }

    [Test]
    public void A_fed_input_whose_batch_differs_from_the_image_s_fixed_batch_is_refused()
    {
        Action prepare = () => ModelPreparer.Prepare(Tempered(batch: 4, temperatureBatch: 1), "tempered", new ModelPreparationOptions { Feeds = Feed(T, 1) });
        prepare.Should().Throw<ScoreCamException>().WithMessage("*'temperature'*fixed at 1*shared with the image (fixed at 4 by the export)*both fixed at 4, or both symbolic*");
    }

    [Test]
    public void A_fed_input_named_like_a_gradient_graph_input_is_refused_naming_it()
    {
        OnnxGraphBuilder g = TestModels.ColouredSquares(batch: 1);
        string seed = g.Input("seed", 1, 1);
        g.Graph.Node.Single(n => n.Output[0] == "output").Output[0] = "raw";
        g.Node("Div", new[] { "raw", seed }, "output");
        var feeds = new Dictionary<string, InputFeed> { ["seed"] = new InputFeed(new[] { T }, 1) };
        using var explainer = new CamExplainer(ModelPreparer.Prepare(g.Build(), "seeded", new ModelPreparationOptions { Feeds = feeds }));
        Action gradCam = () => explainer.Explain(TestModels.TwoSquares(), method: MethodCatalog.Create("gradcam"));
        gradCam.Should().Throw<ScoreCamException>().WithMessage("*'seeded' has an input named 'seed'*gradient graph's own inputs*Rename that input*");
    }

    [Test]
    public void An_output_element_target_is_that_class_and_is_checked_against_the_model()
    {
        using var explainer = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "plain"));
        var image = TestModels.TwoSquares();
        Explanation element = explainer.Explain(image, ExplanationTarget.OutputElement("output", 1));
        Explanation cls = explainer.Explain(image, ExplanationTarget.Class(1));
        element.Map.Values.Should().Equal(cls.Map.Values);
        element.Target.Score.Should().Be(cls.Target.Score);
        element.Target.Index.Should().Be(1);
        Action other = () => explainer.Explain(image, ExplanationTarget.OutputElement("logits", 1));
        other.Should().Throw<ScoreCamException>().WithMessage("*Target output 'logits' is not the output*prepared to score ('output')*ModelPreparationOptions.OutputName = \"logits\"*");
        Action range = () => explainer.Explain(image, ExplanationTarget.OutputElement("output", 3));
        range.Should().Throw<ScoreCamException>().WithMessage("*Index 3 is out of range for output 'output'*3 values*0..2*");
    }
}
