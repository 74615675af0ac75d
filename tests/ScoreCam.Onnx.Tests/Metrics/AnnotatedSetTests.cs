using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Metrics;

public class AnnotatedSetTests
{
    [Test]
    public void Reads_the_committed_sets()
    {
        foreach (string name in new[] { "single", "two-classes", "same-class" })
        {
            AnnotatedSet set = AnnotatedSet.Read(Repository.Path("onnx-models", "eval", name));
            set.Images.Should().NotBeEmpty(name);
            set.Images.Should().OnlyContain(i => i.Items.Count >= 1 && i.Items.All(item => !item.Box.IsEmpty && item.ClassIndex >= 0));
            set.Images.Should().OnlyContain(i => File.Exists(Path.Combine(set.Folder, i.File)));
        }
        AnnotatedSet two = AnnotatedSet.Read(Repository.Path("onnx-models", "eval", "two-classes"));
        two.Images.Should().OnlyContain(i => i.Items.Select(item => item.ClassIndex).Distinct().Count() == 2);
    }

    [Test]
    public void A_folder_without_annotations_or_with_a_bad_file_is_an_input_error()
    {
        using var folder = new TempFolder();
        FluentActions.Invoking(() => AnnotatedSet.Read(folder.Path)).Should().Throw<ScoreCamException>().WithMessage("*annotations.json*");
        File.WriteAllText(folder.File("annotations.json"), """{"images":[{"file":"a.png","items":[{"class":1,"box":[1,2,3]}]}]}""");
        FluentActions.Invoking(() => AnnotatedSet.Read(folder.Path)).Should().Throw<ScoreCamException>().WithMessage("*[x0, y0, x1, y1]*");
        File.WriteAllText(folder.File("annotations.json"), """{"pictures":[]}""");
        FluentActions.Invoking(() => AnnotatedSet.Read(folder.Path)).Should().Throw<ScoreCamException>().WithMessage("*annotation format*");
    }

    [Test]
    public void Evaluation_metrics_agree_with_the_metrics_called_one_by_one()
    {
        using var session = new ModelSession(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"));
        var runner = new MaskedBatchRunner(session, 16);
        ImageTensor image = TestModels.TwoSquares();
        var values = new float[32 * 32];
        for (int i = 0; i < values.Length; i++) values[i] = (i * 37 % 101) / 100f;
        var heatmap = new SaliencyMap(32, 32, values);
        var red = new[] { new BoundingBox(4, 4, 12, 12) };
        var green = new[] { new BoundingBox(20, 16, 28, 24) };
        var options = new CausalMetricOptions { Steps = 4 };
        var all = EvaluationMetric.Compute(runner, image, heatmap, 0, red, EvaluationMetric.Known, options, green);

        ConfidenceChange change = ConfidenceChange.Measure(runner, image, heatmap, 0);
        all[EvaluationMetric.EnergyPointingGame].Should().Be(EnergyPointingGame.Score(heatmap, red[0]));
        all[EvaluationMetric.PointingGame].Should().Be(PointingGame.Hit(heatmap, red[0]) ? 1 : 0);
        all[EvaluationMetric.AverageDrop].Should().Be(change.Drop);
        all[EvaluationMetric.IncreaseInConfidence].Should().Be(change.Increased ? 100 : 0);
        all[EvaluationMetric.DeletionAuc].Should().Be(new CausalMetric(CausalMetricKind.Deletion, options).Measure(runner, image, heatmap, 0).Auc);
        all[EvaluationMetric.InsertionAuc].Should().Be(new CausalMetric(CausalMetricKind.Insertion, options).Measure(runner, image, heatmap, 0).Auc);
        all[EvaluationMetric.OtherClassesEnergy].Should().Be(EnergyPointingGame.Score(heatmap, green[0]));
        all[EvaluationMetric.WeakestBoxEnergy].Should().Be(all[EvaluationMetric.EnergyPointingGame], "one box");
        var both = new[] { red[0], green[0] };
        EvaluationMetric.Compute(runner, image, heatmap, 0, both, new[] { EvaluationMetric.WeakestBoxEnergy })[EvaluationMetric.WeakestBoxEnergy]
            .Should().Be(Math.Min(EnergyPointingGame.Score(heatmap, red[0]), EnergyPointingGame.Score(heatmap, green[0])));
        EvaluationMetric.Compute(runner, image, heatmap, 0, red, new[] { EvaluationMetric.OtherClassesEnergy })[EvaluationMetric.OtherClassesEnergy]
            .Should().Be(double.NaN, "no other class on the canvas");
    }
}
