using System.Globalization;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Metrics;

/// <summary>
/// evaluate on a segmenter (onnx-models/tiny-segmenter) over the two-item canvases with their item maps: per item, the
/// share of the map's energy inside the item's pixels for the item's class, recomputed here by plain loops.
/// </summary>
public class SegmentationEvaluationTests
{
    private static readonly string Model = Repository.Path("onnx-models", "tiny-segmenter", "tiny-segmenter.onnx");
    private static readonly string TwoClasses = Repository.Path("onnx-models", "eval", "two-classes");

    [Test]
    public void The_energy_on_marked_pixels_is_their_share_of_the_positive_values()
    {
        // Values 1 2 3 / 4 -5 6: the negative one counts as no energy; marked: (0,0), (1,1) and (2,1).
        var map = new SaliencyMap(3, 2, new float[] { 1, 2, 3, 4, -5, 6 });
        EnergyPointingGame.Score(map, new[] { true, false, false, false, true, true }).Should().BeApproximately(7.0 / 16, 1e-12);
        EnergyPointingGame.Score(map, new bool[6]).Should().Be(0);
        EnergyPointingGame.Score(new SaliencyMap(3, 2, new float[6]), new[] { true, true, true, true, true, true }).Should().Be(0, "a map with no energy scores 0");
    }

    [Test]
    public void Item_pixels_are_read_at_the_input_pixels_centres_through_the_stretch()
    {
        // A 4×2 picture's item map (rows 0 1 1 2 / 0 2 2 0) seen by a 2×1 input: centres (1, 1) and (3, 1) of the picture.
        byte[] owner = { 0, 1, 1, 2, 0, 2, 2, 0 };
        var input = new ImageTensor(new float[3 * 2], 3, 1, 2);
        SegmentationEvaluation.InputPixels(owner, 4, 2, input, 2).Should().Equal(true, false);
        SegmentationEvaluation.InputPixels(owner, 4, 2, input, 1).Should().Equal(false, false);
        // A crop of columns 1..2 (2×2) seen by a 2×2 input: the picture's pixels themselves.
        var cropped = new ImageTensor(new float[3 * 4], 3, 2, 2, new SourceRegion(4, 2, 1, 0, 2, 2));
        SegmentationEvaluation.InputPixels(owner, 4, 2, cropped, 1).Should().Equal(true, true, false, false);
    }

    [Test]
    public void Each_items_energy_in_its_pixels_and_on_the_others_is_the_share_of_its_maps_energy()
    {
        using var folder = new TempFolder();
        string output = Path.Combine(folder.Path, "out");
        var (code, text, error) = CliRunner.Run("evaluate", "--model", Model, "--output", "out", "--set", TwoClasses, "--limit", "2", "--method", "gradcam",
            "--out-dir", output, "--quiet");
        code.Should().Be(0, error);
        text.Should().Contain("| gradcam | 4 |");
        string[] lines = File.ReadAllLines(Path.Combine(output, "segmentation.csv"));
        lines[0].Should().Be("image,item,class,method,score,energy_in_item,energy_other_items,assigned_share,passes,seconds");
        lines.Should().HaveCount(1 + 4);

        var set = AnnotatedSet.Read(TwoClasses);
        using var explainer = CamExplainer.Open(Model, new ExplainerOptions { Preparation = new Onnx.Models.ModelPreparationOptions { OutputName = "out" } });
        for (int image = 0; image < 2; image++)
        {
            AnnotatedImage annotated = set.Images[image];
            using var items = Image.Load<L8>(Path.Combine(TwoClasses, Path.GetFileNameWithoutExtension(annotated.File) + ".items.png"));
            var owner = new byte[96 * 96];
            items.CopyPixelDataTo(owner);
            using var picture = explainer.LoadImage(Path.Combine(TwoClasses, annotated.File));
            ImageTensor input = explainer.Preprocess(picture);
            for (int i = 0; i < 2; i++)
            {
                byte[] mask = owner.Select(o => (byte)(o == i + 1 ? 1 : 0)).ToArray();
                mask.Should().Contain(1, "every item has pixels");
                Explanation e = explainer.Explain(input, new SegmentationTarget(annotated.Items[i].ClassIndex.ToString(CultureInfo.InvariantCulture),
                    SegmentationRegion.Mask(mask, 96, 96)), new GradCamMethod());
                // The picture and the input are both 96×96: input pixel p is picture pixel p.
                double inItem = 0, onOther = 0, total = 0;
                for (int p = 0; p < owner.Length; p++)
                {
                    double v = Math.Max(0, e.Heatmap.Values[p]);
                    total += v;
                    if (owner[p] == i + 1) inItem += v;
                    else if (owner[p] != 0) onOther += v;
                }
                string[] row = lines[1 + image * 2 + i].Split(',');
                (row[0], row[1], row[2], row[3]).Should().Be((annotated.File, i.ToString(CultureInfo.InvariantCulture),
                    annotated.Items[i].ClassIndex.ToString(CultureInfo.InvariantCulture), "gradcam"));
                // A map with no energy (Grad-CAM's ReLU can leave none) scores 0.
                double.Parse(row[5], CultureInfo.InvariantCulture).Should().BeApproximately(total > 0 ? inItem / total : 0, 1e-5, $"{annotated.File} item {i}");
                double.Parse(row[6], CultureInfo.InvariantCulture).Should().BeApproximately(total > 0 ? onOther / total : 0, 1e-5, $"{annotated.File} item {i}");
                float.Parse(row[4], CultureInfo.InvariantCulture).Should().BeApproximately(e.Target.Score, 1e-4f * Math.Max(1, Math.Abs(e.Target.Score)));
            }
        }
    }

    [Test]
    public void A_set_without_item_maps_is_refused_with_what_to_give()
    {
        using var folder = new TempFolder();
        var (code, _, error) = CliRunner.Run("evaluate", "--model", Model, "--output", "out", "--set", Repository.Path("onnx-models", "eval", "single"), "--limit", "1",
            "--method", "gradcam", "--out-dir", folder.Path, "--quiet");
        code.Should().NotBe(0);
        error.Should().Contain("0001.png").And.Contain("has no item map 0001.items.png").And.Contain("i + 1: item i");
    }
}
