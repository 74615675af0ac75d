using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>
/// Explaining a detection of the random-init YOLO-layout detectors (tools/detection/export_random_yolo.py) against
/// PyTorch (autograd Grad-CAM, a plain Score-CAM loop, the D-RISE score), finite differences of the target score, and
/// a straightforward RISE loop.
/// </summary>
public class RandomYoloTests
{
    private const string Layer = "/p3/p3.1/Relu_output_0";
    private static readonly string Folder = Repository.Path("onnx-models", "detection-test");
    private static PreparedModel _v8 = null!, _v5 = null!;
    private static ImageTensor _image = null!;
    private static DetectionTarget _target = null!;

    private static float[] Npy(string name) => NpyFile.Read(Path.Combine(Folder, name)).Data;

    [OneTimeSetUp]
    public void Load()
    {
        _v8 = ModelPreparer.Prepare(Path.Combine(Folder, "random-yolov8.onnx"), new ModelPreparationOptions { Layer = Layer });
        _v5 = ModelPreparer.Prepare(Path.Combine(Folder, "random-yolov5.onnx"), new ModelPreparationOptions { Layer = Layer });
        _image = new ImageTensor(Npy("random-yolov8.input.npy"), 3, 64, 64);
        float[] box = Npy("random-yolov8.reference.box.npy");
        _target = new DetectionTarget(new DetectionBox(box[0], box[1], box[2], box[3]), (int)Npy("random-yolov8.reference.cls.npy")[0]);
    }

    /// <summary>D-RISE written out on a YOLOv8 output (4+C rows of N): max over j of IoU × cos(one-hot c, p_j).</summary>
    private static double DRise(float[] y, DetectionBox r, int cls, int classes = 3)
    {
        int n = y.Length / (4 + classes);
        double best = 0;
        for (int j = 0; j < n; j++)
        {
            double cx = y[j], cy = y[n + j], w = y[2 * n + j], h = y[3 * n + j];
            double x0 = cx - w / 2, y0 = cy - h / 2, x1 = cx + w / 2, y1 = cy + h / 2;
            double iw = Math.Max(0, Math.Min(x1, r.X1) - Math.Max(x0, r.X0)), ih = Math.Max(0, Math.Min(y1, r.Y1) - Math.Max(y0, r.Y0));
            double iou = iw * ih / (w * h + r.Width * r.Height - iw * ih);
            double norm = Math.Sqrt(Enumerable.Range(0, classes).Sum(c => (double)y[(4 + c) * n + j] * y[(4 + c) * n + j]));
            best = Math.Max(best, iou * y[(4 + cls) * n + j] / norm);
        }
        return best;
    }

    private static void ShouldMatchAfterMax(float[] actual, float[] expected, double tolerance, string what)
    {
        actual.Length.Should().Be(expected.Length);
        float ma = actual.Max(x => Math.Abs(x)), me = expected.Max(x => Math.Abs(x));
        me.Should().BeGreaterThan(0, what);
        double diff = actual.Zip(expected, (a, e) => Math.Abs(a / ma - e / me)).Max();
        TestContext.Progress.WriteLine($"{what}: max difference after /max {diff:E2}");
        diff.Should().BeLessThan(tolerance, what);
    }

    [Test]
    public void ONNX_Runtime_reproduces_PyTorchs_outputs_and_the_layout_is_detected()
    {
        foreach (var (model, name) in new[] { (_v8, "random-yolov8"), (_v5, "random-yolov5") })
        {
            using var explainer = new CamExplainer(model);
            float[] output = explainer.Embed(_image), expected = Npy(name + ".output.npy");
            output.Zip(expected, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-4f, name);
            DetectionHead head = DetectionHead.For(model);
            (head.Layout, head.Proposals, head.Classes).Should().Be((name.EndsWith("v8") ? DetectionLayout.YoloV8 : DetectionLayout.YoloV5, 80, 3));
            head.Detect(output).Should().NotBeEmpty();
        }
    }

    [Test]
    public void The_D_RISE_score_of_the_unmasked_input_is_PyTorchs_and_a_straightforward_ones()
    {
        using var explainer = new CamExplainer(_v8, new ExplainerOptions { Method = new GradCamMethod() });
        Explanation e = explainer.Explain(_image, _target);
        e.Target.Score.Should().BeApproximately(Npy("random-yolov8.reference.drise.npy")[0], 1e-5f);
        e.Target.Score.Should().BeApproximately((float)DRise(explainer.Embed(_image), _target.Box, _target.ClassIndex), 1e-6f);
        e.Target.Name.Should().Be("class 1 at 8,12,40,44");
    }

    [Test]
    public void Grad_CAM_of_a_detection_matches_PyTorch_autograd_and_finite_differences_through_the_head()
    {
        using var explainer = new CamExplainer(_v8, new ExplainerOptions { Method = new GradCamMethod() });
        Explanation e = explainer.Explain(_image, _target);
        ShouldMatchAfterMax(e.ChannelWeights, Npy("random-yolov8.reference.gradcam_weights.npy"), 1e-3, "Grad-CAM weights vs PyTorch");
        ShouldMatchAfterMax(e.Map.Values, Npy("random-yolov8.reference.gradcam.npy"), 1e-3, "Grad-CAM map vs PyTorch");

        // w_k = mean over the plane of dS/dA_k = (d/dt S(A + t·1_k)) / (h·w): central differences through the model's tail.
        using var session = new ModelSession(_v8);
        var forward = session.Forward(_image);
        using var tail = new TailSession(_v8);
        int plane = forward.Height * forward.Width;
        var rows = new float[_v8.OutputSize];
        double S(int k, float t)
        {
            float[] a = forward.Activations.ToArray();
            for (int i = k * plane; i < (k + 1) * plane; i++) a[i] += t;
            tail.Run(a, 1, rows);
            return DRise(rows, _target.Box, _target.ClassIndex);
        }
        for (int k = 0; k < forward.Channels; k++)
        {
            const float h = 1e-3f;
            double numeric = (S(k, h) - S(k, -h)) / (2 * h) / plane;
            e.ChannelWeights[k].Should().BeApproximately((float)numeric, 2e-5f + 1e-2f * Math.Abs((float)numeric), $"channel {k}");
        }
    }

    [Test]
    public void Score_CAM_of_a_detection_matches_a_plain_PyTorch_loop()
    {
        using var explainer = new CamExplainer(_v8, new ExplainerOptions { Method = new ScoreCamMethod() });
        Explanation e = explainer.Explain(_image, _target);
        float[] expected = Npy("random-yolov8.reference.scorecam_weights.npy");
        e.ChannelWeights.Zip(expected, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-5f);
        ShouldMatchAfterMax(e.Map.Values, Npy("random-yolov8.reference.scorecam.npy"), 1e-3, "Score-CAM map vs PyTorch");
    }

    [Test]
    public void D_RISE_is_RISE_with_the_detection_target_the_score_weighted_sum_of_masks()
    {
        using var explainer = new CamExplainer(_v8);
        const int n = 5, s = 4, seed = 2;
        const double p = 0.5;
        Explanation e = explainer.Explain(_image, _target, new RiseMethod(new RiseOptions { Masks = n, GridSize = s, KeepProbability = p, Seed = seed }));
        int size = 64, cell = size / s, up = (s + 1) * cell;
        var random = new Random(seed);
        var expected = new double[size * size];
        byte[] model = File.ReadAllBytes(Path.Combine(Folder, "random-yolov8.onnx"));
        for (int i = 0; i < n; i++)
        {
            var grid = new float[s * s];
            for (int g = 0; g < grid.Length; g++) grid[g] = random.NextDouble() < p ? 1f : 0f;
            int dy = random.Next(cell), dx = random.Next(cell);
            float[] large = Reference.Bilinear(grid, s, s, up, up, alignCorners: false);
            var mask = new float[size * size];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) mask[y * size + x] = large[(y + dy) * up + x + dx];
            var masked = new float[_image.Data.Length];
            for (int j = 0; j < masked.Length; j++) masked[j] = _image.Data[j] * mask[j % (size * size)];
            double score = DRise(Reference.Run(model, new ImageTensor(masked, 3, size, size))["output0"], _target.Box, _target.ClassIndex);
            for (int j = 0; j < mask.Length; j++) expected[j] += score * mask[j];
        }
        for (int j = 0; j < expected.Length; j++) e.Map.Values[j].Should().BeApproximately((float)(expected[j] / (n * p)), 1e-5f);
    }

    [Test]
    public void The_input_gradient_of_a_YOLOv5_detection_matches_finite_differences_of_its_score()
    {
        using var explainer = new CamExplainer(_v5);
        float[] output = explainer.Embed(_image);
        DetectionHead head = DetectionHead.For(_v5);
        Detection d = head.Detect(output)[0];
        ResolvedTarget target = DetectionTarget.Of(d).Resolve(new TargetModel(_v5, null, output));
        var seed = new float[output.Length];
        target.Derivative(TargetScorer.Outputs(_v5, output), seed);
        float[] gradient = explainer.Gradients.Input(64, 64, guided: false).Run(_image.Data, seed).Gradients;
        float Score(float[] x) => target.Score(TargetScorer.Outputs(_v5, explainer.Embed(new ImageTensor(x, 3, 64, 64))), ScoreMode.RawScore);
        // Along the gradient and along random directions.
        double norm = Math.Sqrt(gradient.Sum(g => (double)g * g));
        var random = new Random(5);
        var directions = new List<float[]> { gradient.Select(g => (float)(g / norm)).ToArray() };
        for (int trial = 0; trial < 2; trial++)
            directions.Add(_image.Data.Select(_ => (float)(random.NextDouble() * 2 - 1) / 64).ToArray());
        foreach (float[] v in directions)
        {
            const float h = 1e-2f;
            double numeric = (Score(_image.Data.Select((x, i) => x + h * v[i]).ToArray()) - (double)Score(_image.Data.Select((x, i) => x - h * v[i]).ToArray())) / (2 * h);
            double analytic = gradient.Zip(v, (g, x) => (double)g * x).Sum();
            TestContext.Progress.WriteLine($"directional derivative: analytic {analytic:E4}, central difference {numeric:E4}");
            // Relative to |∇S|·|v|, the size of a directional derivative: a wrong gradient errs by that much.
            double scale = norm * Math.Sqrt(v.Sum(x => (double)x * x));
            analytic.Should().BeApproximately(numeric, 3e-3 * scale, "along each direction");
        }
    }

    [Test]
    public void A_graph_with_suppression_inside_is_refused_naming_the_node_and_the_export_to_use()
    {
        // The test detector with a NonMaxSuppression node beside its head (on constant boxes and scores), as an exporter's graph has one.
        global::Onnx.ModelProto proto = OnnxModelReader.Read(Path.Combine(Folder, "random-yolov8.onnx"));
        global::Onnx.TensorProto Floats(string name, float[] values, params long[] dims)
        {
            var t = new global::Onnx.TensorProto { Name = name, DataType = (int)global::Onnx.TensorProto.Types.DataType.Float };
            t.Dims.AddRange(dims);
            t.FloatData.AddRange(values);
            return t;
        }
        proto.Graph.Initializer.Add(Floats("nms_boxes", new float[] { 0, 0, 10, 10, 1, 1, 11, 11 }, 1, 2, 4));
        proto.Graph.Initializer.Add(Floats("nms_scores", new float[] { 0.9f, 0.8f }, 1, 1, 2));
        var nms = new global::Onnx.NodeProto { Name = "/postprocess/NonMaxSuppression", OpType = "NonMaxSuppression" };
        nms.Input.AddRange(new[] { "nms_boxes", "nms_scores" });
        nms.Output.Add("selected");
        proto.Graph.Node.Add(nms);
        proto.Graph.Output.Add(new global::Onnx.ValueInfoProto
        {
            Name = "selected",
            Type = new global::Onnx.TypeProto { TensorType = new global::Onnx.TypeProto.Types.Tensor { ElemType = (int)global::Onnx.TensorProto.Types.DataType.Int64 } },
        });
        using var stream = new MemoryStream();
        using (var output = new Google.Protobuf.CodedOutputStream(stream)) proto.WriteTo(output);
        PreparedModel model = ModelPreparer.Prepare(stream.ToArray(), "yolo-with-nms", new ModelPreparationOptions { Layer = Layer, OutputName = "output0" });
        FluentActions.Invoking(() => DetectionHead.For(model)).Should().Throw<ScoreCamException>()
            .WithMessage("*'yolo-with-nms'*suppression inside*'/postprocess/NonMaxSuppression'*nms=False*");
    }

    [Test]
    public void An_output_that_is_no_detector_or_a_class_it_does_not_score_is_refused_naming_what_to_do()
    {
        using var explainer = new CamExplainer(ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares"));
        FluentActions.Invoking(() => explainer.Explain(TestModels.TwoSquares(), new DetectionTarget(new DetectionBox(0, 0, 8, 8), 0)))
            .Should().Throw<ScoreCamException>().WithMessage("*'output'*not a matrix of proposals*");
        using var yolo = new CamExplainer(_v8);
        FluentActions.Invoking(() => yolo.Explain(_image, new DetectionTarget(new DetectionBox(0, 0, 8, 8), 3)))
            .Should().Throw<ScoreCamException>().WithMessage("*Class 3 is out of range*3 classes*");
    }
}
