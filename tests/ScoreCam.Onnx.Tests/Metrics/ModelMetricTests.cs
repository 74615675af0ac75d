using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Metrics;

/// <summary>
/// The metrics that run the model, on the coloured-squares classifier: an image with one red 8×8 square at (4, 4),
/// a map on the square (faithful) and its complement (unfaithful).
/// </summary>
public class ModelMetricTests
{
    private const int Side = 8, X = 4, Y = 4, Plane = TestModels.Size * TestModels.Size;

    private static ModelSession Session() => new(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"));

    private static MaskedBatchRunner Runner(ModelSession session, int batch = 16) => new(session, batch);

    private static ImageTensor RedSquare()
    {
        var data = new float[3 * Plane];
        for (int y = Y; y < Y + Side; y++)
            for (int x = X; x < X + Side; x++) data[y * TestModels.Size + x] = 1f;
        return new ImageTensor(data, 3, TestModels.Size, TestModels.Size);
    }

    private static SaliencyMap OnSquare(bool inside)
    {
        var values = new float[Plane];
        for (int y = 0; y < TestModels.Size; y++)
            for (int x = 0; x < TestModels.Size; x++)
            {
                bool inSquare = x >= X && x < X + Side && y >= Y && y < Y + Side;
                values[y * TestModels.Size + x] = inSquare == inside ? 1f - 0.001f * (y * TestModels.Size + x) / Plane : 0f;
            }
        return new SaliencyMap(TestModels.Size, TestModels.Size, values);
    }

    /// <summary>Softmax probability of class 0 when the red channel's mean is <paramref name="redMean"/> (logit 40 · mean).</summary>
    private static double Probability(double redMean) => Math.Exp(40 * redMean) / (Math.Exp(40 * redMean) + 2);

    [Test]
    public void Deletion_of_the_red_square_drops_class_0_monotonically_to_chance()
    {
        using ModelSession session = Session();
        CausalCurve curve = new CausalMetric(CausalMetricKind.Deletion).Measure(Runner(session), RedSquare(), OnSquare(true), 0);

        curve.Probabilities.Should().HaveCount(33);
        curve.Probabilities[0].Should().BeApproximately(Probability(64.0 / Plane), 1e-5);
        curve.Probabilities[1].Should().BeApproximately(Probability(32.0 / Plane), 1e-5, "32 of 1024 pixels per step, the most salient first");
        for (int i = 2; i <= 32; i++) curve.Probabilities[i].Should().BeApproximately(1.0 / 3, 1e-5, "the square is gone after two steps");
        for (int i = 0; i < 32; i++) curve.Probabilities[i + 1].Should().BeLessThanOrEqualTo(curve.Probabilities[i] + 1e-6);
        curve.Auc.Should().BeApproximately(CausalMetric.Auc(curve.Probabilities), 1e-12);

        CausalCurve unfaithful = new CausalMetric(CausalMetricKind.Deletion).Measure(Runner(session), RedSquare(), OnSquare(false), 0);
        unfaithful.Probabilities[^1].Should().BeApproximately(1.0 / 3, 1e-5);
        curve.Auc.Should().BeLessThan(unfaithful.Auc - 0.2, "deleting the evidence first makes the probability fall fast");
    }

    [Test]
    public void Insertion_starts_from_the_blurred_image_ends_at_the_input_and_rewards_the_faithful_map()
    {
        using ModelSession session = Session();
        ImageTensor image = RedSquare();
        var insertion = new CausalMetric(CausalMetricKind.Insertion);
        CausalCurve faithful = insertion.Measure(Runner(session), image, OnSquare(true), 0);
        CausalCurve unfaithful = insertion.Measure(Runner(session), image, OnSquare(false), 0);

        var blurred = new ImageTensor(new float[image.Data.Length], image.Channels, image.Height, image.Width);
        insertion.Blur.Apply(image.Data, image.Channels, image.Height, image.Width, blurred.Data);
        faithful.Probabilities[0].Should().BeApproximately(ClassProbability.Of(Runner(session), blurred, 0), 1e-6);
        faithful.Probabilities[^1].Should().BeApproximately(Probability(64.0 / Plane), 1e-5);
        unfaithful.Probabilities[^1].Should().BeApproximately(faithful.Probabilities[^1], 1e-6);
        faithful.Auc.Should().BeGreaterThan(unfaithful.Auc + 0.1);
    }

    [Test]
    public void Batch_size_and_steps_shape_the_curve_but_batching_does_not_change_it()
    {
        using ModelSession session = Session();
        var one = new CausalMetric(CausalMetricKind.Deletion, new CausalMetricOptions { Steps = 8 }).Measure(Runner(session, 1), RedSquare(), OnSquare(true), 0);
        var many = new CausalMetric(CausalMetricKind.Deletion, new CausalMetricOptions { Steps = 8 }).Measure(Runner(session, 5), RedSquare(), OnSquare(true), 0);
        one.Probabilities.Should().HaveCount(9);
        for (int i = 0; i < 9; i++) many.Probabilities[i].Should().BeApproximately(one.Probabilities[i], 1e-6);
    }

    [Test]
    public void Confidence_change_masks_the_input_with_the_top_half_of_the_map()
    {
        using ModelSession session = Session();
        ImageTensor image = RedSquare();
        double y = Probability(64.0 / Plane);

        ConfidenceChange kept = ConfidenceChange.Measure(Runner(session), image, OnSquare(true), 0);
        kept.Y.Should().BeApproximately(y, 1e-5);
        // The square's values are ~1 and the threshold (the 512th largest value) is 0, so the square keeps its values.
        double keptMean = OnSquare(true).Values.Where(v => v > 0).Sum() / Plane;
        kept.O.Should().BeApproximately(Probability(keptMean), 1e-5);

        ConfidenceChange muted = ConfidenceChange.Measure(Runner(session), image, OnSquare(false), 0);
        muted.O.Should().BeApproximately(1.0 / 3, 1e-5, "the red square lies outside the map: class 0 falls to chance");
        muted.Drop.Should().BeApproximately((y - 1.0 / 3) / y * 100, 1e-3);
        muted.Increased.Should().BeFalse();
    }
}
