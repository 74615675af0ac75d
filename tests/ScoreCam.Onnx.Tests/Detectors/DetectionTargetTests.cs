using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>The detection target's score against hand computations, and its derivative against central differences.</summary>
public class DetectionTargetTests
{
    private static readonly (DetectionBox Box, float Obj, float[] P)[] Proposals =
    {
        (new DetectionBox(10, 10, 30, 30), 0.9f, new[] { 0.8f, 0.1f }),
        (new DetectionBox(12, 12, 32, 32), 0.8f, new[] { 0.6f, 0.2f }),
        (new DetectionBox(40, 0, 60, 10), 1.0f, new[] { 0.1f, 0.3f }),
    };

    private static TargetOutputs Outputs(float[] v) => new("o", v, new[] { v.Length }, default);

    private static (DetectionHead Head, float[] V)[] Layouts((DetectionBox Box, float Obj, float[] P)[] p) => new[]
    {
        (DetectionHead.For(new[] { 6, p.Length }, DetectionLayout.YoloV8, "o"), DetectionHeadTests.V8(p)),
        (DetectionHead.For(new[] { p.Length, 7 }, DetectionLayout.YoloV5, "o"), DetectionHeadTests.V5(p)),
        (DetectionHead.For(new[] { p.Length, 6 }, DetectionLayout.EndToEnd, "o"), DetectionHeadTests.EndToEnd(p)),
    };

    [Test]
    public void The_D_RISE_score_is_the_best_proposals_IoU_times_objectness_times_class_cosine()
    {
        // Reference: proposal 1's box, class 0. Proposal 0 overlaps it by 324/476; proposal 2 not at all.
        var target = new DetectionTarget(new DetectionBox(12, 12, 32, 32), 0);
        double iou01 = 324.0 / 476.0;
        double cos0 = 0.8 / Math.Sqrt(0.8 * 0.8 + 0.1 * 0.1), cos1 = 0.6 / Math.Sqrt(0.6 * 0.6 + 0.2 * 0.2);
        var expected = new Dictionary<DetectionLayout, double>
        {
            [DetectionLayout.YoloV8] = Math.Max(iou01 * cos0, 1 * cos1),                 // 0.675 vs 0.949: proposal 1
            [DetectionLayout.YoloV5] = Math.Max(iou01 * 0.9 * cos0, 1 * 0.8 * cos1),     // 0.608 vs 0.759
            [DetectionLayout.EndToEnd] = Math.Max(iou01 * 0.9, 1 * 0.8),                 // one-hot classes: cosine 1
        };
        foreach (var (head, v) in Layouts(Proposals))
            target.Bind(head, null).Score(Outputs(v), ScoreMode.RawScore).Should().BeApproximately((float)expected[head.Layout], 1e-6f, head.Layout.ToString());
        // Class 1 in the end-to-end layout: no proposal carries it.
        var (e2e, ev) = Layouts(Proposals)[2];
        new DetectionTarget(new DetectionBox(12, 12, 32, 32), 1).Bind(e2e, null).Score(Outputs(ev), ScoreMode.RawScore).Should().Be(0);
    }

    [Test]
    public void The_box_score_is_the_best_overlap_IoU_plus_its_confidence_when_it_matches()
    {
        var (head, v) = Layouts(Proposals)[0];
        var box = new DetectionBox(11, 11, 31, 31); // IoU with 0 and 1: 361 / 439 each; proposal 0 comes first
        double iou = 361.0 / 439.0;
        new DetectionTarget(box, 0) { Scoring = DetectionScoring.BoxScore }.Bind(head, null).Score(Outputs(v), ScoreMode.RawScore)
            .Should().BeApproximately((float)(iou + 0.8), 1e-6f);
        new DetectionTarget(box, 1) { Scoring = DetectionScoring.BoxScore }.Bind(head, null).Score(Outputs(v), ScoreMode.RawScore).Should().Be(0, "its class is 0");
        new DetectionTarget(box, 0) { Scoring = DetectionScoring.BoxScore, IouThreshold = 0.9f }.Bind(head, null).Score(Outputs(v), ScoreMode.RawScore).Should().Be(0);
        new DetectionTarget(box, 0) { Scoring = DetectionScoring.BoxScore, Confidence = 0.7f }.Bind(head, null).Score(Outputs(v), ScoreMode.RawScore)
            .Should().BeApproximately((float)(iou + 0.8), 1e-6f);
    }

    [Test]
    public void The_derivative_matches_central_differences_of_the_score_for_every_layout_and_scoring()
    {
        var random = new Random(3);
        // Overlapping random proposals around the reference, partial overlaps on every side; class 0 the best of each.
        var proposals = Enumerable.Range(0, 12).Select(_ =>
        {
            float x = 5 + random.NextSingle() * 20, y = 5 + random.NextSingle() * 20, w = 8 + random.NextSingle() * 20, h = 8 + random.NextSingle() * 20;
            return (new DetectionBox(x, y, x + w, y + h), 0.3f + random.NextSingle() * 0.7f, new[] { 0.5f + random.NextSingle(), 0.05f + 0.4f * random.NextSingle() });
        }).ToArray();
        var box = new DetectionBox(10, 12, 30, 34);
        foreach (var scoring in new[] { DetectionScoring.DRise, DetectionScoring.BoxScore })
            foreach (var (head, v) in Layouts(proposals))
            {
                ResolvedTarget t = new DetectionTarget(box, 0) { Scoring = scoring, IouThreshold = 0.1f }.Bind(head, null);
                var seed = new float[v.Length];
                t.Derivative(Outputs(v), seed);
                seed.Should().Contain(x => x != 0, $"{scoring} {head.Layout}");
                for (int i = 0; i < v.Length; i++)
                {
                    if (head.Layout == DetectionLayout.EndToEnd && i % 6 == 5) continue; // the class number is not differentiable
                    const double h = 1e-3;
                    double[] p = v.Select(x => (double)x).ToArray();
                    float Score(double dx)
                    {
                        float[] q = v.ToArray();
                        q[i] = (float)(p[i] + dx);
                        return t.Score(Outputs(q), ScoreMode.RawScore);
                    }
                    double numeric = (Score(h) - (double)Score(-h)) / (2 * h);
                    seed[i].Should().BeApproximately((float)numeric, 2e-3f, $"{scoring} {head.Layout} value {i}");
                }
            }
    }
}
