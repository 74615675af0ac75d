using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Inference;

public class Int8BatchRunnerTests
{
    private static string DefaultModel => Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");

    private static CamExplainer Open(Int8Options? int8, IExplanationMethod? method = null) => CamExplainer.Open(DefaultModel, new ExplainerOptions
    {
        Inference = new InferenceOptions { Int8 = int8 },
        Method = method ?? new ScoreCamMethod(),
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
