using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>evaluate on a detector: per annotated item, the energy in its own box and on the other items, recomputed here by plain loops.</summary>
public class DetectorEvaluationTests
{
    private static readonly string Model = Repository.Path("onnx-models", "detection-test", "random-yolov8.onnx");
    private const string Layer = "/p3/p3.1/Relu_output_0";

    [Test]
    public void Each_items_energy_in_its_box_and_on_the_others_is_the_share_of_its_maps_energy()
    {
        using var folder = new TempFolder();
        string set = Path.Combine(folder.Path, "set");
        Directory.CreateDirectory(set);
        // Two canvases of the committed two-class set (96×96, stretched to the detector's 64×64), relabelled to its 3 classes.
        File.Copy(Repository.Path("onnx-models", "eval", "two-classes", "0001.png"), Path.Combine(set, "a.png"));
        File.Copy(Repository.Path("onnx-models", "eval", "two-classes", "0002.png"), Path.Combine(set, "b.png"));
        File.WriteAllText(Path.Combine(set, "annotations.json"), """
            {"images": [
              {"file": "a.png", "items": [{"class": 1, "box": [46, 15, 80, 65]}, {"class": 2, "box": [25, 40, 40, 77]}]},
              {"file": "b.png", "items": [{"class": 0, "box": [48, 0, 69, 39]}]}
            ]}
            """);
        string output = Path.Combine(folder.Path, "out");
        var (code, text, error) = CliRunner.Run("evaluate", "--model", Model, "--layer", Layer, "--set", set, "--method", "gradcam,scorecam",
            "--out-dir", output, "--quiet");
        code.Should().Be(0, error);
        text.Should().Contain("| gradcam | 3 |").And.Contain("| scorecam | 3 |");
        string[] lines = File.ReadAllLines(Path.Combine(output, "detections.csv"));
        lines[0].Should().Be("image,item,class,method,score,energy_in_box,energy_other_items,detected_iou,passes,seconds");
        lines.Should().HaveCount(1 + 3 * 2);

        // The first item of a.png with Score-CAM, recomputed: its box in input pixels is the 96-pixel box scaled by 64/96, rounded.
        using var explainer = new CamExplainer(ModelPreparer.Prepare(Model, new ModelPreparationOptions { Layer = Layer }));
        using var picture = explainer.LoadImage(Path.Combine(set, "a.png"));
        ImageTensor input = explainer.Preprocess(picture);
        var own = (X0: 31, Y0: 10, X1: 53, Y1: 43);   // 46,15,80,65 × 2/3
        var other = (X0: 17, Y0: 27, X1: 27, Y1: 51); // 25,40,40,77 × 2/3
        Explanation e = explainer.Explain(input, new DetectionTarget(new DetectionBox(own.X0, own.Y0, own.X1, own.Y1), 1), new ScoreCamMethod());
        double total = 0, inOwn = 0, inOther = 0;
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
            {
                double v = Math.Max(0, e.Heatmap.Values[y * 64 + x]);
                total += v;
                if (x >= own.X0 && x < own.X1 && y >= own.Y0 && y < own.Y1) inOwn += v;
                if (x >= other.X0 && x < other.X1 && y >= other.Y0 && y < other.Y1) inOther += v;
            }
        string[] row = lines.Single(l => l.StartsWith("a.png,0,1,scorecam,")).Split(',');
        double.Parse(row[5], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(inOwn / total, 1e-5);
        double.Parse(row[6], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(inOther / total, 1e-5);
        lines.Single(l => l.StartsWith("b.png,0,0,gradcam,")).Split(',')[6].Should().BeEmpty("b.png has one item");
    }
}
