using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ScoreCam.Onnx.Tests.Inference;

public class Int8BatchRunnerTests
{
    private static string DefaultModel => Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");

    private static CamExplainer Open(Int8Options? int8, IExplanationMethod? method = null, ILogger? logger = null) => CamExplainer.Open(DefaultModel, new ExplainerOptions
    {
        Inference = new InferenceOptions { Int8 = int8 },
        Method = method ?? new ScoreCamMethod(),
        Logger = logger ?? NullLogger.Instance,
    });

    private static ImageTensor Sample(CamExplainer explainer)
    {
        using var picture = explainer.LoadImage(Repository.Path("onnx-models", "fashion-clutter", "sample.png"));
        return explainer.Preprocess(picture);
    }

    /// <summary>The sample canvas shifted right by <paramref name="dx"/> pixels: another input of the same size.</summary>
    private static ImageTensor Shifted(ImageTensor image, int dx)
    {
        var data = new float[image.Data.Length];
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < image.Height; y++)
                for (int x = dx; x < image.Width; x++)
                    data[(c * image.Height + y) * image.Width + x] = image.Data[(c * image.Height + y) * image.Width + x - dx];
        return new ImageTensor(data, image.Channels, image.Height, image.Width);
    }

    [TestCase(CalibrationMethod.MinMax)]
    [TestCase(CalibrationMethod.Percentile)]
    public void Score_cam_on_the_default_model_keeps_its_fidelity_floor(CalibrationMethod method)
    {
        // Every one of the 128 channels' masked passes runs in int8; the map is made of float32 activations with
        // the int8 passes' weights. Measured when written (sample canvas): Spearman 1.0000, max difference 0.0008
        // (min-max) / 0.0012 (percentile), weight error 0.017 / 0.023. The floors leave room for other ONNX Runtime
        // builds, not for a broken quantizer (a per-tensor weight scale or a wrong zero point fails them).
        using var full = Open(null);
        using var int8 = Open(new Int8Options { Method = method });
        ImageTensor input = Sample(full);
        Explanation a = full.Explain(input), b = int8.Explain(input);

        ((Int8BatchRunner)int8.Runner).Calibrations.Should().Be(1);
        b.ForwardPasses.Should().Be(a.ForwardPasses);
        b.Prediction.Should().Be(a.Prediction, "the unmasked pass stays float32");
        RankCorrelation.Spearman(a.Heatmap.Values, b.Heatmap.Values).Should().BeGreaterThan(0.99);
        float maxA = a.Map.Values.Max(), maxB = b.Map.Values.Max();
        a.Map.Values.Zip(b.Map.Values).Max(p => Math.Abs(p.First / maxA - p.Second / maxB)).Should().BeLessThan(0.01f);
        var errors = a.ChannelWeights.Zip(b.ChannelWeights).Where(p => !float.IsNaN(p.First)).Select(p => Math.Abs(p.First - p.Second)).ToList();
        errors.Max().Should().BeLessThan(0.05f).And.BeGreaterThan(0f, "the masked passes ran in int8, not float32");
    }

    [Test]
    public void Each_input_calibrates_once_and_two_copies_are_kept()
    {
        using var int8 = Open(new Int8Options { MaskedSamples = 2 }, new ScoreCamMethod(new ScoreCamOptions { MaxChannels = 4 }));
        var runner = (Int8BatchRunner)int8.Runner;
        ImageTensor a = Sample(int8), b = Shifted(a, 8), c = Shifted(a, 16);
        int8.Explain(a);
        int8.Explain(a);
        runner.Calibrations.Should().Be(1);
        Explanation fromB = int8.Explain(b);
        int8.Explain(a);
        runner.Calibrations.Should().Be(2);
        int8.Explain(c);
        int8.Explain(b).ChannelWeights.Should().Equal(fromB.ChannelWeights, "a copy is calibrated on its input alone, whatever ran before");
        runner.Calibrations.Should().Be(4, "c's copy pushed b's out");
    }

    [Test]
    public void A_calibration_folder_makes_one_copy_for_every_input()
    {
        using var folder = new TempFolder();
        File.Copy(Repository.Path("onnx-models", "fashion-clutter", "sample.png"), folder.File("a.png"));
        File.WriteAllText(folder.File("notes.txt"), "not a picture");
        using var int8 = Open(new Int8Options { CalibrationFolder = folder.Path, MaskedSamples = 2 }, new ScoreCamMethod(new ScoreCamOptions { MaxChannels = 4 }));
        ImageTensor a = Sample(int8);
        int8.Explain(a);
        int8.Explain(Shifted(a, 8));
        ((Int8BatchRunner)int8.Runner).Calibrations.Should().Be(1);
    }

    [Test]
    public void A_cache_folder_keeps_each_calibrated_copy_for_later_explainers_and_a_new_calibration_makes_a_new_copy()
    {
        using var pictures = new TempFolder();
        using var cache = new TempFolder();
        File.Copy(Repository.Path("onnx-models", "fashion-clutter", "sample.png"), pictures.File("a.png"));
        var options = new Int8Options { CalibrationFolder = pictures.Path, MaskedSamples = 2, CacheFolder = cache.Path };
        var fourChannels = new ScoreCamMethod(new ScoreCamOptions { MaxChannels = 4 });
        string[] Copies() => Directory.GetFiles(cache.Path).Select(Path.GetFileName).Order().ToArray()!;
        (int Calibrations, float[] Weights) Run(Int8Options o)
        {
            using var explainer = Open(o, fourChannels);
            float[] weights = explainer.Explain(Shifted(Sample(explainer), 4)).ChannelWeights;
            return (((Int8BatchRunner)explainer.Runner).Calibrations, weights);
        }

        var first = Run(options);
        first.Calibrations.Should().Be(1);
        Copies().Should().ContainSingle().Which.Should().MatchRegex(@"^fashion-clutter\.int8-[0-9a-f]{32}\.onnx$", "written whole under its key, no temporary file left");
        var second = Run(options);
        second.Calibrations.Should().Be(0, "the next explainer (another preparation of the same model) reads the copy back");
        second.Weights.Should().Equal(first.Weights);

        Run(options with { Method = CalibrationMethod.Percentile }).Calibrations.Should().Be(1, "another method is another calibration");
        Copies().Should().HaveCount(2);
        File.Copy(pictures.File("a.png"), pictures.File("b.png"));
        using (var picture = Image.Load<Rgb24>(pictures.File("b.png")))
        {
            picture.Mutate(c => c.Flip(FlipMode.Horizontal));
            picture.SaveAsPng(pictures.File("b.png"));
        }
        Run(options).Calibrations.Should().Be(1, "another picture in the folder is another calibration");
        Copies().Should().HaveCount(3);
        Run(options with { MaskedSamples = 3 }).Calibrations.Should().Be(1, "so is another number of masked samples");
        Run(options with { MaskedSamples = 3 }).Calibrations.Should().Be(0);
        Copies().Should().HaveCount(4);
    }

    [Test]
    public void A_damaged_cached_copy_is_calibrated_again_and_an_unwritable_cache_folder_only_warns()
    {
        using var pictures = new TempFolder();
        using var cache = new TempFolder();
        File.Copy(Repository.Path("onnx-models", "fashion-clutter", "sample.png"), pictures.File("a.png"));
        var options = new Int8Options { CalibrationFolder = pictures.Path, MaskedSamples = 2, CacheFolder = cache.Path };
        var fourChannels = new ScoreCamMethod(new ScoreCamOptions { MaxChannels = 4 });
        float[] expected;
        using (var explainer = Open(options, fourChannels)) expected = explainer.Explain(Sample(explainer)).ChannelWeights;
        string copy = Directory.GetFiles(cache.Path).Single();
        File.WriteAllBytes(copy, new byte[] { 1, 2, 3 });

        var logger = new RecordingLogger();
        using (var explainer = Open(options, fourChannels, logger))
        {
            explainer.Explain(Sample(explainer)).ChannelWeights.Should().Equal(expected);
            ((Int8BatchRunner)explainer.Runner).Calibrations.Should().Be(1);
        }
        logger.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Which.Message.Should().Contain(copy).And.Contain("calibrating it again");
        new FileInfo(copy).Length.Should().BeGreaterThan(3, "the damaged file is replaced");

        // A cache folder that is a file cannot be written: the explanation runs, a warning says the copy is not cached.
        logger.Entries.Clear();
        using (var explainer = Open(options with { CacheFolder = copy }, fourChannels, logger))
            explainer.Explain(Sample(explainer)).ChannelWeights.Should().Equal(expected);
        logger.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Which.Message.Should().StartWith("The int8 copy is not cached");
    }

    [Test]
    public void Bad_calibration_settings_are_refused_with_what_to_do()
    {
        using var empty = new TempFolder();
        ((Action)(() => Open(new Int8Options { CalibrationFolder = empty.Path }))).Should().Throw<ScoreCamException>().WithMessage("*holds no pictures*");
        ((Action)(() => Open(new Int8Options { CalibrationFolder = empty.File("missing") }))).Should().Throw<ScoreCamException>().WithMessage("*does not exist*");
        ((Action)(() => Open(new Int8Options { Percentile = 40 }))).Should().Throw<ArgumentOutOfRangeException>();
        var both = () => CamExplainer.Open(DefaultModel, new ExplainerOptions { Inference = new InferenceOptions { Int8 = new Int8Options(), Float16 = true } });
        both.Should().Throw<ScoreCamException>().WithMessage("*choose one*");
    }

    [Test]
    public void Gradient_methods_and_the_unmasked_pass_stay_float32()
    {
        using var full = Open(null);
        using var int8 = Open(new Int8Options());
        ImageTensor input = Sample(full);
        IExplanationMethod gradCam = MethodCatalog.Create("gradcam");
        int8.Explain(input, method: gradCam).Map.Values.Should().Equal(full.Explain(input, method: gradCam).Map.Values);
        int8.Forward(input).Activations.Should().Equal(full.Forward(input).Activations);
        ((Int8BatchRunner)int8.Runner).Calibrations.Should().Be(0, "no masked pass ran");
    }
}
