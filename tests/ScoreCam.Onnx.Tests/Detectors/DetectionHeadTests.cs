using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>Decoding the three layouts and the suppression, against outputs written by hand and a brute-force expectation.</summary>
public class DetectionHeadTests
{
    // Three proposals, two classes: (box x0,y0,x1,y1, objectness, class scores).
    private static readonly (DetectionBox Box, float Obj, float[] P)[] Proposals =
    {
        (new DetectionBox(10, 10, 30, 30), 0.9f, new[] { 0.8f, 0.1f }),
        (new DetectionBox(12, 12, 32, 32), 0.8f, new[] { 0.6f, 0.2f }), // overlaps the first by IoU 324/476 = 0.68
        (new DetectionBox(40, 0, 60, 10), 1.0f, new[] { 0.1f, 0.3f }),
    };

    internal static float[] V8(IEnumerable<(DetectionBox Box, float Obj, float[] P)> proposals)
    {
        var list = proposals.ToList();
        int n = list.Count, c = list[0].P.Length;
        var v = new float[(4 + c) * n];
        for (int j = 0; j < n; j++)
        {
            var b = list[j].Box;
            float[] f = new[] { (b.X0 + b.X1) / 2, (b.Y0 + b.Y1) / 2, b.Width, b.Height }.Concat(list[j].P).ToArray();
            for (int i = 0; i < f.Length; i++) v[i * n + j] = f[i];
        }
        return v;
    }

    internal static float[] V5(IEnumerable<(DetectionBox Box, float Obj, float[] P)> proposals) =>
        proposals.SelectMany(p => new[] { (p.Box.X0 + p.Box.X1) / 2, (p.Box.Y0 + p.Box.Y1) / 2, p.Box.Width, p.Box.Height, p.Obj }.Concat(p.P)).ToArray();

    internal static float[] EndToEnd(IEnumerable<(DetectionBox Box, float Obj, float[] P)> proposals) =>
        proposals.SelectMany(p => new[] { p.Box.X0, p.Box.Y0, p.Box.X1, p.Box.Y1, p.Obj, Array.IndexOf(p.P, p.P.Max()) }).ToArray();

    [Test]
    public void The_layouts_are_told_apart_by_shape_and_an_ambiguous_one_must_be_named()
    {
        DetectionHead.For(new[] { 6, 30 }, null, "out").Should().Match<DetectionHead>(h => h.Layout == DetectionLayout.YoloV8 && h.Classes == 2 && h.Proposals == 30);
        DetectionHead.For(new[] { 84, 8400 }, null, "out").Classes.Should().Be(80);
        DetectionHead.For(new[] { 25200, 85 }, null, "out").Should().Match<DetectionHead>(h => h.Layout == DetectionLayout.YoloV5 && h.Classes == 80);
        FluentActions.Invoking(() => DetectionHead.For(new[] { 300, 6 }, null, "out")).Should().Throw<ScoreCamException>().WithMessage("*'out'*300×6*ambiguous*name the layout*");
        DetectionHead.For(new[] { 300, 6 }, DetectionLayout.EndToEnd, "out").Proposals.Should().Be(300);
        FluentActions.Invoking(() => DetectionHead.For(new[] { 10 }, null, "logits")).Should().Throw<ScoreCamException>().WithMessage("*'logits'*not a matrix*");
        FluentActions.Invoking(() => DetectionHead.For(new[] { 7, 3 }, DetectionLayout.EndToEnd, "out")).Should().Throw<ScoreCamException>().WithMessage("*EndToEnd*");
    }

    [Test]
    public void Every_layout_decodes_the_same_proposals()
    {
        var heads = new[]
        {
            (DetectionHead.For(new[] { 6, 3 }, DetectionLayout.YoloV8, "o"), V8(Proposals)),
            (DetectionHead.For(new[] { 3, 7 }, DetectionLayout.YoloV5, "o"), V5(Proposals)),
            (DetectionHead.For(new[] { 3, 6 }, DetectionLayout.EndToEnd, "o"), EndToEnd(Proposals)),
        };
        foreach (var (head, v) in heads)
            for (int j = 0; j < 3; j++)
            {
                head.Box(v, j).Should().Be(Proposals[j].Box, head.Layout.ToString());
                int best = Array.IndexOf(Proposals[j].P, Proposals[j].P.Max());
                float confidence = head.Layout switch
                {
                    DetectionLayout.YoloV8 => Proposals[j].P[best],
                    DetectionLayout.YoloV5 => Proposals[j].Obj * Proposals[j].P[best],
                    _ => Proposals[j].Obj,
                };
                head.Best(v, j).Should().Be((best, confidence), head.Layout.ToString());
                head.Objectness(v, j).Should().Be(head.Layout == DetectionLayout.YoloV8 ? 1f : Proposals[j].Obj);
            }
    }

    [Test]
    public void Suppression_keeps_the_best_of_overlapping_boxes_of_a_class_and_matches_a_brute_force_expectation()
    {
        float[] v = V8(Proposals);
        DetectionHead head = DetectionHead.For(new[] { 6, 3 }, DetectionLayout.YoloV8, "o");
        // IoU of the first two is 324 / (400 + 400 − 324) = 0.68: above 0.5 the second is dropped, below 0.7 it is kept.
        Proposals[0].Box.IoU(Proposals[1].Box).Should().BeApproximately(324f / 476f, 1e-6f);
        head.Detect(v, confidence: 0.25f, iou: 0.5f).Select(d => d.Proposal).Should().Equal(0, 2);
        head.Detect(v, confidence: 0.25f, iou: 0.7f).Select(d => d.Proposal).Should().Equal(0, 1, 2);
        head.Detect(v, confidence: 0.5f, iou: 0.7f).Select(d => d.Proposal).Should().Equal(0, 1);
        head.Detect(v, confidence: 0.25f, iou: 0.7f, max: 1).Should().ContainSingle().Which.Should().Be(new Detection(0, Proposals[0].Box, 0, 0.8f));

        // Random proposals: the greedy rule written out with no shortcuts.
        var random = new Random(7);
        var many = Enumerable.Range(0, 200).Select(_ =>
        {
            float x = random.NextSingle() * 50, y = random.NextSingle() * 50, w = 5 + random.NextSingle() * 20, h = 5 + random.NextSingle() * 20;
            return (new DetectionBox(x, y, x + w, y + h), 1f, new[] { random.NextSingle(), random.NextSingle(), random.NextSingle() });
        }).ToList();
        float[] mv = V8(many);
        var order = many.Select((p, j) => (j, c: Array.IndexOf(p.Item3, p.Item3.Max()), s: p.Item3.Max())).Where(t => t.s >= 0.3f)
            .OrderByDescending(t => t.s).ThenBy(t => t.j).ToList();
        var expected = new List<int>();
        foreach (var t in order)
        {
            bool suppressed = false;
            foreach (int k in expected)
                if (order.First(o => o.j == k).c == t.c && many[k].Item1.IoU(many[t.j].Item1) > 0.45f) suppressed = true;
            if (!suppressed) expected.Add(t.j);
        }
        DetectionHead.For(new[] { 7, 200 }, null, "o").Detect(mv, 0.3f, 0.45f).Select(d => d.Proposal).Should().Equal(expected);
        expected.Count.Should().BeInRange(20, order.Count - 1, "the case suppresses some and keeps many");
    }

    [Test]
    public void Boxes_parse_from_text_and_bad_ones_are_refused()
    {
        DetectionBox.Parse("1, 2.5,30,40").Should().Be(new DetectionBox(1, 2.5f, 30, 40));
        FluentActions.Invoking(() => DetectionBox.Parse("1,2,3")).Should().Throw<ScoreCamException>().WithMessage("*four numbers*");
        FluentActions.Invoking(() => DetectionBox.Parse("5,2,3,9")).Should().Throw<ScoreCamException>().WithMessage("*empty*");
    }

    /// <summary>Rows x0, y0, x1, y1, score, label of a graph's kept detections, padded to the gathered output's rows with "no detection".</summary>
    private static float[] Gathered(params (DetectionBox Box, float Score, int Label)[] detections)
    {
        var v = new float[SuppressedDetections.Rows * 6];
        for (int j = 0; j < SuppressedDetections.Rows; j++)
        {
            var (b, score, label) = j < detections.Length ? detections[j] : (default, SuppressedDetections.Empty, (int)SuppressedDetections.Empty);
            new[] { b.X0, b.Y0, b.X1, b.Y1, score, label }.CopyTo(v, 6 * j);
        }
        return v;
    }

    [Test]
    public void A_graphs_suppressed_detections_are_taken_as_they_are_and_more_than_the_rows_hold_are_refused()
    {
        DetectionHead head = DetectionHead.Suppressed;
        // Two boxes of one class overlapping by IoU 0.82: the graph kept both (its own threshold), so both stay.
        var a = (new DetectionBox(10, 10, 30, 30), 0.9f, 2);
        var b = (new DetectionBox(11, 11, 31, 31), 0.5f, 2);
        var c = (new DetectionBox(40, 0, 60, 10), 0.7f, 5);
        var found = head.Detect(Gathered(a, b, c), confidence: 0);
        found.Select(d => (d.Proposal, d.ClassIndex, d.Confidence)).Should().Equal((0, 2, 0.9f), (2, 5, 0.7f), (1, 2, 0.5f));
        found[1].Box.Should().Be(c.Item1);
        head.Detect(Gathered(a, b, c), confidence: 0.6f).Should().HaveCount(2);
        head.Detect(Gathered(), confidence: 0).Should().BeEmpty("padding rows hold no detection, whatever the confidence");

        var full = Enumerable.Range(0, SuppressedDetections.Rows).Select(j => (new DetectionBox(j, 0, j + 1, 1), 0.5f, 1)).ToArray();
        FluentActions.Invoking(() => head.Detect(Gathered(full))).Should().Throw<ScoreCamException>().WithMessage("*more detections than the 1000*");
        head.Detect(Gathered(full[..^1]), confidence: 0, max: SuppressedDetections.Rows).Should().HaveCount(SuppressedDetections.Rows - 1);
    }
}
