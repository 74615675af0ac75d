using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A detection to explain: a reference box (input pixels) and class, scored on each output by <see cref="Scoring"/>
/// (by default D-RISE's similarity). The model's scored output must be a detector's raw proposals
/// (<see cref="DetectionHead"/>; <see cref="Layout"/> names the layout where its shape does not show it).
/// </summary>
public sealed record DetectionTarget(DetectionBox Box, int ClassIndex) : ExplanationTarget
{
    public DetectionScoring Scoring { get; init; } = DetectionScoring.DRise;
    public DetectionLayout? Layout { get; init; }
    /// <summary>The IoU a proposal must exceed to match the box (<see cref="DetectionScoring.BoxScore"/>).</summary>
    public float IouThreshold { get; init; } = 0.5f;
    /// <summary>The confidence at which a proposal counts (<see cref="DetectionScoring.BoxScore"/>).</summary>
    public float Confidence { get; init; } = 0.25f;

    /// <summary>The target of one of the model's own detections.</summary>
    public static DetectionTarget Of(Detection detection) => new(detection.Box, detection.ClassIndex);

    public override ResolvedTarget Resolve(TargetModel model)
    {
        if (Box.Width <= 0 || Box.Height <= 0) throw new ScoreCamException($"The reference box {Box} is empty: x1 must exceed x0 and y1 exceed y0.");
        return Bind(DetectionHead.For(model.Model, Layout), model.LabelOf(ClassIndex));
    }

    /// <summary>This target on outputs read by <paramref name="head"/>.</summary>
    internal ResolvedTarget Bind(DetectionHead head, string? label)
    {
        if (ClassIndex < 0 || (!head.OneClassPerRow && ClassIndex >= head.Classes))
            throw new ScoreCamException($"Class {ClassIndex} is out of range: the detector scores {head.Classes} classes (0..{head.Classes - 1}).");
        string name = $"{label ?? $"class {ClassIndex}"} at {Box}";
        return new Similarity(this, head, name, label);
    }

    /// <summary>The bound score; the derivative is analytic at the best-matching proposal (the max's subgradient).</summary>
    private sealed class Similarity(DetectionTarget target, DetectionHead head, string name, string? label) : ResolvedTarget(name, null, label)
    {
        private readonly DetectionBox _box = target.Box;
        private readonly int _class = target.ClassIndex;

        public override float Score(TargetOutputs outputs, ScoreMode mode)
        {
            ReadOnlySpan<float> v = outputs.Values;
            if (target.Scoring == DetectionScoring.BoxScore)
            {
                int j = BestOverlap(v);
                return j < 0 ? 0f : _box.IoU(head.Box(v, j)) + head.Best(v, j).Confidence;
            }
            float best = 0;
            for (int j = 0; j < head.Proposals; j++) best = Math.Max(best, DRise(v, j));
            return best;
        }

        /// <summary>s(d_t, d_j) = IoU(L_t, L_j) · O_j · cos(P_t, P_j) with P_t one-hot (D-RISE eq. 2-3).</summary>
        private float DRise(ReadOnlySpan<float> v, int j)
        {
            float iou = _box.IoU(head.Box(v, j));
            return iou == 0 ? 0 : iou * head.Objectness(v, j) * Cosine(v, j);
        }

        private float Cosine(ReadOnlySpan<float> v, int j)
        {
            if (head.OneClassPerRow) return head.ClassScore(v, j, _class);
            double norm = 0;
            for (int c = 0; c < head.Classes; c++) norm += (double)head.ClassScore(v, j, c) * head.ClassScore(v, j, c);
            return norm == 0 ? 0 : (float)(head.ClassScore(v, j, _class) / Math.Sqrt(norm));
        }

        /// <summary>The counted proposal overlapping the box most, when it matches (IoU above the threshold, the same class); else -1.</summary>
        private int BestOverlap(ReadOnlySpan<float> v)
        {
            int best = -1;
            float bestIou = 0;
            for (int j = 0; j < head.Proposals; j++)
            {
                if (head.Best(v, j).Confidence < target.Confidence) continue;
                float iou = _box.IoU(head.Box(v, j));
                if (best < 0 || iou > bestIou) (best, bestIou) = (j, iou);
            }
            return best >= 0 && bestIou > target.IouThreshold && head.Best(v, best).Class == _class ? best : -1;
        }

        public override void Derivative(TargetOutputs outputs, Span<float> seed)
        {
            ReadOnlySpan<float> v = outputs.Values;
            seed.Clear();
            if (target.Scoring == DetectionScoring.BoxScore)
            {
                int m = BestOverlap(v);
                if (m < 0) return;
                BoxGradient(v, m, 1f, seed);
                ConfidenceGradient(v, m, seed);
                return;
            }
            int j = -1;
            float best = 0;
            for (int i = 0; i < head.Proposals; i++)
            {
                float s = DRise(v, i);
                if (s > best) (j, best) = (i, s);
            }
            if (j < 0) return;
            float iou = _box.IoU(head.Box(v, j)), o = head.Objectness(v, j), k = Cosine(v, j);
            BoxGradient(v, j, o * k, seed);
            if (head.ObjectnessFeature >= 0) seed[head.IndexOf(j, head.ObjectnessFeature)] += iou * k;
            if (head.OneClassPerRow) return;
            // d cos / d p_i = (δ_ic − p_c p_i / |p|²) / |p|
            double norm2 = 0;
            for (int c = 0; c < head.Classes; c++) norm2 += (double)head.ClassScore(v, j, c) * head.ClassScore(v, j, c);
            double norm = Math.Sqrt(norm2), pc = head.ClassScore(v, j, _class);
            for (int c = 0; c < head.Classes; c++)
            {
                double d = ((c == _class ? 1 : 0) - pc * head.ClassScore(v, j, c) / norm2) / norm;
                seed[head.IndexOf(j, head.ClassFeature + c)] += (float)(iou * o * d);
            }
        }

        /// <summary>Adds <paramref name="scale"/> · d IoU(box, L_j) / d (proposal j's box values) to the seed.</summary>
        private void BoxGradient(ReadOnlySpan<float> v, int j, float scale, Span<float> seed)
        {
            DetectionBox b = head.Box(v, j), r = _box;
            float iw = Math.Min(b.X1, r.X1) - Math.Max(b.X0, r.X0), ih = Math.Min(b.Y1, r.Y1) - Math.Max(b.Y0, r.Y0);
            if (iw <= 0 || ih <= 0) return;
            double inter = (double)iw * ih, union = (double)b.Width * b.Height + r.Area - inter;
            // d IoU = d inter · (U + inter) / U² − inter · d A / U², with A = (x1 − x0)(y1 − y0) the proposal's area.
            double a = (union + inter) / (union * union), c = inter / (union * union);
            // The intersection's edge is max(b.x0, r.x0) (min for x1); where the two are equal the derivative is split in
            // half between them, as PyTorch's maximum and minimum do (the subgradient autograd gives a detection's own box).
            static double Inner(float mine, float other, bool larger) => mine == other ? 0.5 : (larger ? mine > other : mine < other) ? 1 : 0;
            double gx0 = -a * ih * Inner(b.X0, r.X0, true) + c * b.Height;
            double gx1 = a * ih * Inner(b.X1, r.X1, false) - c * b.Height;
            double gy0 = -a * iw * Inner(b.Y0, r.Y0, true) + c * b.Width;
            double gy1 = a * iw * Inner(b.Y1, r.Y1, false) - c * b.Width;
            Span<double> g = stackalloc double[4];
            if (head.OneClassPerRow) (g[0], g[1], g[2], g[3]) = (gx0, gy0, gx1, gy1);
            else (g[0], g[1], g[2], g[3]) = (gx0 + gx1, gy0 + gy1, (gx1 - gx0) / 2, (gy1 - gy0) / 2); // x0,1 = cx ∓ w/2
            for (int f = 0; f < 4; f++) seed[head.IndexOf(j, f)] += (float)(scale * g[f]);
        }

        /// <summary>d confidence / d output at proposal j: its best class score (times the objectness for YOLOv5), the end-to-end score.</summary>
        private void ConfidenceGradient(ReadOnlySpan<float> v, int j, Span<float> seed)
        {
            if (head.OneClassPerRow)
            {
                seed[head.IndexOf(j, 4)] += 1;
                return;
            }
            int c = head.Best(v, j).Class;
            seed[head.IndexOf(j, head.ClassFeature + c)] += head.Objectness(v, j);
            if (head.ObjectnessFeature >= 0) seed[head.IndexOf(j, head.ObjectnessFeature)] += head.ClassScore(v, j, c);
        }
    }
}
