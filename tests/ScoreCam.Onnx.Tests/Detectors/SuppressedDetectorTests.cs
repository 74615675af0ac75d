using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>
/// Detectors with NonMaxSuppression inside their graph against PyTorch: the committed tiny random-init detector
/// (tools/detection/export_tiny_nms.py, torchvision's postprocessing on a 64×64 input: every build) and torchvision's
/// ssdlite320_mobilenet_v3_large (random init whose scores spread; exported to tools/.cache/models by
/// tools/detection/ssdlite_reference.py, 14 MB, not committed: runs when exported). Checked: the detections decoded
/// from the gathered output, the D-RISE score of the first detection, Grad-CAM by autograd with the kept detections as
/// they are, Score-CAM by a plain loop (its weights are the D-RISE score of each masked image, whose detections vary
/// in number), and RISE against a straightforward loop over the original graph.
/// </summary>
[TestFixture("random-nms", "onnx-models/detection-test", "/stem/stem.3/Relu_output_0", 64, null)]
[TestFixture("ssdlite320-spread", "tools/.cache/models", "/model/backbone/features.0/features.0.12/Add_output_0", 320, "tools/detection/ssdlite_reference.py")]
public class SuppressedDetectorTests(string name, string folder, string layer, int size, string? exportedBy)
{
    private readonly string _folder = Repository.Path(folder.Split('/'));
    private PreparedModel _model = null!;
    private ImageTensor _image = null!;
    private DetectionTarget _target = null!;

    private float[] Npy(string file) => NpyFile.Read(Path.Combine(_folder, file)).Data;
    private float[] Reference(string key) => Npy($"{name}.reference.{key}.npy");

    [OneTimeSetUp]
    public void Load()
    {
        // A committed model must be there; an export too big to commit is made by its script.
        if (exportedBy is not null && !File.Exists(Path.Combine(_folder, name + ".onnx")))
            Assert.Ignore($"{name}.onnx is not exported ({exportedBy}).");
        _model = ModelPreparer.Prepare(Path.Combine(_folder, name + ".onnx"), new ModelPreparationOptions { Layer = layer });
        _image = new ImageTensor(Npy(name + ".input.npy"), 3, size, size);
        float[] box = Reference("box");
        _target = new DetectionTarget(new DetectionBox(box[0], box[1], box[2], box[3]), (int)Reference("cls")[0]);
    }

    /// <summary>The original graph's outputs, run by ONNX Runtime's plain API.</summary>
    private (float[] Boxes, float[] Scores, long[] Labels) RunOriginal(InferenceSession session, float[] image)
    {
        var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>((float[])image.Clone(), new[] { 1, 3, size, size });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("images", tensor) });
        var r = results.ToDictionary(v => v.Name);
        return (r["boxes"].AsEnumerable<float>().ToArray(), r["scores"].AsEnumerable<float>().ToArray(), r["labels"].AsEnumerable<long>().ToArray());
    }

    /// <summary>D-RISE on kept detections, written out: max over them of IoU × score × [label = class]; 0 with none.</summary>
    private static double DRise(float[] boxes, float[] scores, long[] labels, DetectionBox r, int cls)
    {
        double best = 0;
        for (int j = 0; j < scores.Length; j++)
        {
            if (labels[j] != cls) continue;
            double x0 = boxes[4 * j], y0 = boxes[4 * j + 1], x1 = boxes[4 * j + 2], y1 = boxes[4 * j + 3];
            double iw = Math.Max(0, Math.Min(x1, r.X1) - Math.Max(x0, r.X0)), ih = Math.Max(0, Math.Min(y1, r.Y1) - Math.Max(y0, r.Y0));
            best = Math.Max(best, iw * ih / ((x1 - x0) * (y1 - y0) + r.Width * r.Height - iw * ih) * scores[j]);
        }
        return best;
    }

    private static double MaxDifferenceAfterMax(float[] actual, float[] expected)
    {
        actual.Length.Should().Be(expected.Length);
        float ma = actual.Max(Math.Abs), me = expected.Max(Math.Abs);
        me.Should().BeGreaterThan(0);
        return actual.Zip(expected, (a, e) => Math.Abs(a / ma - e / me)).Max();
    }

    [Test]
    public void The_detections_are_PyTorchs_decoded_from_the_gathered_output()
    {
        using var explainer = new CamExplainer(_model);
        DetectionHead head = DetectionHead.For(_model);
        (head.Layout, head.Proposals).Should().Be((DetectionLayout.BoxesScoresLabels, SuppressedDetections.Rows));
        IReadOnlyList<Detection> found = head.Detect(explainer.Embed(_image), confidence: 0);
        float[] boxes = Reference("outputs_boxes"), scores = Reference("outputs_scores"), labels = Reference("outputs_labels");
        found.Should().HaveCount(scores.Length);
        for (int j = 0; j < found.Count; j++)
        {
            found[j].Confidence.Should().BeApproximately(scores[j], 1e-4f, $"detection {j}");
            found[j].ClassIndex.Should().Be((int)labels[j], $"detection {j}");
            new[] { found[j].Box.X0, found[j].Box.Y0, found[j].Box.X1, found[j].Box.Y1 }.Should()
                .Equal(boxes.Skip(4 * j).Take(4), (a, b) => Math.Abs(a - b) < 1e-2f, $"detection {j}");
        }
    }

    [Test]
    public void Grad_CAM_through_the_kept_detections_matches_PyTorch_autograd()
    {
        using var explainer = new CamExplainer(_model, new ExplainerOptions { Method = new GradCamMethod() });
        // The model's own first detection, as PyTorch's reference is its own: the box matches itself exactly, where the
        // IoU's derivative takes the subgradient of PyTorch's maximum and minimum (ties split in half).
        Detection first = DetectionHead.For(_model).Detect(explainer.Embed(_image), confidence: 0)[0];
        first.Box.IoU(_target.Box).Should().BeGreaterThan(0.9999f);
        var clock = Stopwatch.StartNew();
        Explanation e = explainer.Explain(_image, DetectionTarget.Of(first));
        clock.Stop();
        e.Target.Score.Should().BeApproximately(Reference("drise")[0], 1e-4f, "the D-RISE score of the unmasked input");
        double weights = MaxDifferenceAfterMax(e.ChannelWeights, Reference("gradcam_weights")), map = MaxDifferenceAfterMax(e.Map.Values, Reference("gradcam"));
        TestContext.Progress.WriteLine($"{name} Grad-CAM: weights {weights:E2}, map {map:E2} after /max; {clock.Elapsed.TotalSeconds:0.0} s");
        weights.Should().BeLessThan(1e-3);
        map.Should().BeLessThan(1e-3);
    }

    [Test]
    public void The_input_gradient_through_the_kept_detections_matches_PyTorch_autograd()
    {
        if (exportedBy is not null) Assert.Ignore("The input gradient is compared on the committed detector.");
        using var explainer = new CamExplainer(_model);
        Detection first = DetectionHead.For(_model).Detect(explainer.Embed(_image), confidence: 0)[0];
        Explanation e = explainer.Explain(_image, DetectionTarget.Of(first), new VanillaGradientMethod());
        double diff = MaxDifferenceAfterMax(e.Attribution!.Values, Reference("input_gradient"));
        TestContext.Progress.WriteLine($"{name} vanilla gradient: {diff:E2} after /max");
        diff.Should().BeLessThan(1e-3);
    }

    [Test]
    public void Score_CAM_weights_are_the_D_RISE_score_of_each_masked_image_as_PyTorch_computes_it()
    {
        using var explainer = new CamExplainer(_model, new ExplainerOptions { Method = new ScoreCamMethod() });
        var clock = Stopwatch.StartNew();
        Explanation e = explainer.Explain(_image, _target);
        clock.Stop();
        float[] expected = Reference("scorecam_weights");
        double weights = e.ChannelWeights.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), map = MaxDifferenceAfterMax(e.Map.Values, Reference("scorecam"));
        TestContext.Progress.WriteLine($"{name} Score-CAM: weights (D-RISE per masked image) max |diff| {weights:E2}, map {map:E2} after /max; {clock.Elapsed.TotalSeconds:0.0} s");
        weights.Should().BeLessThan(1e-4);
        map.Should().BeLessThan(1e-3);
    }

    [Test]
    public void RISE_with_the_detection_target_is_D_RISE_over_each_masked_images_own_detections()
    {
        using var explainer = new CamExplainer(_model);
        const int n = 4, s = 4, seed = 3; // s divides both input sizes
        const double p = 0.5;
        var clock = Stopwatch.StartNew();
        Explanation e = explainer.Explain(_image, _target, new RiseMethod(new RiseOptions { Masks = n, GridSize = s, KeepProbability = p, Seed = seed }));
        clock.Stop();
        int cell = size / s, up = (s + 1) * cell;
        var random = new Random(seed);
        var expected = new double[size * size];
        using var session = new InferenceSession(Path.Combine(_folder, name + ".onnx"));
        var counts = new List<int>();
        for (int i = 0; i < n; i++)
        {
            var grid = new float[s * s];
            for (int g = 0; g < grid.Length; g++) grid[g] = random.NextDouble() < p ? 1f : 0f;
            int dy = random.Next(cell), dx = random.Next(cell);
            float[] large = Support.Reference.Bilinear(grid, s, s, up, up, alignCorners: false);
            var masked = new float[_image.Data.Length];
            var mask = new float[size * size];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) mask[y * size + x] = large[(y + dy) * up + x + dx];
            for (int j = 0; j < masked.Length; j++) masked[j] = _image.Data[j] * mask[j % (size * size)];
            var (boxes, scores, labels) = RunOriginal(session, masked);
            counts.Add(scores.Length);
            double score = DRise(boxes, scores, labels, _target.Box, _target.ClassIndex);
            for (int j = 0; j < mask.Length; j++) expected[j] += score * mask[j];
        }
        float[] reference = expected.Select(v => (float)(v / (n * p))).ToArray();
        double diff = e.Map.Values.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Progress.WriteLine($"{name} RISE (D-RISE), {n} masks: max |diff| {diff:E2} (map max {reference.Max():0.###}), detections per masked image " +
            $"{string.Join(", ", counts)}; {clock.Elapsed.TotalSeconds:0.0} s");
        diff.Should().BeLessThan(1e-5 * Math.Max(1, reference.Max()));
        MaxDifferenceAfterMax(e.Map.Values, reference).Should().BeLessThan(1e-3);
    }
}
