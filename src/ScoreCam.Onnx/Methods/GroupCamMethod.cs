using System.Numerics.Tensors;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Group-CAM (Zhang, Rao and Yang 2021, eq. 2-8): the K channels, weighted by Grad-CAM's α_k (the spatial mean of dY/dA_k),
/// are split into G consecutive groups (of ⌈K/G⌉ channels, as torch.chunk splits them); each group's map
/// M_l = ReLU(Σ_{k∈l} α_k A_k) is de-noised (values not above its 70th percentile set to 0), bilinearly upsampled
/// (align_corners = false) and min-max normalized (a constant map is left out); its score is
/// softmax(F(X ∘ M_l + X̃ ∘ (1 − M_l)))_c − softmax(F(X̃))_c with X̃ the input blurred (kernel 51, σ 50, reflected
/// borders, as the authors' code), and L = ReLU(Σ_l score_l · M_l) at the input's resolution. G + 1 passes per target
/// (the blurred baseline is shared); the reported channel weights are α.
/// </summary>
public sealed class GroupCamMethod : IBatchedMethod
{
    private const double Percentile = 70;
    private static readonly GaussianBlur Blur = new(51, 50, reflect: true);

    public GroupCamMethod(int groups = 32)
    {
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "Group-CAM needs at least one group.");
        Groups = groups;
    }

    /// <summary>Groups G of channels.</summary>
    public int Groups { get; }

    public string Name => "groupcam";

    public static readonly MethodOption<int> GroupsOption = MethodOption.Integer("groupcam-groups", "Group-CAM: groups G of channels (one pass each).", 32, 1, CommonOptions.MaxPasses, countsPasses: true);

    public static IReadOnlyList<MethodOption> Declared { get; } = [GroupsOption];

    public static GroupCamMethod From(MethodSettings s) => new(s.Get(GroupsOption));

    public IReadOnlyDictionary<string, string> Settings => MethodSettings.Describe((GroupsOption, Groups));

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        using BatchedPasses passes = ((IBatchedMethod)this).Begin(context);
        return context.Run(passes);
    }

    BatchedPasses IBatchedMethod.Begin(ExplanationContext context) => new GroupMasks(this, context);

    /// <summary>Item 0 is the blurred baseline; item 1 + t·G + l is target t's group l.</summary>
    private sealed class GroupMasks : BatchedPasses
    {
        private readonly ExplanationContext _context;
        private readonly int _groups, _size, _plane;
        private readonly float[][] _alpha;
        private readonly float[] _blurred, _mask, _baseline, _scores, _targetScores;
        private readonly BilinearUpsampler _upsampler;
        private readonly float[] _scratch, _lowRes;

        public GroupMasks(GroupCamMethod method, ExplanationContext context)
        {
            _context = context;
            _size = (context.Channels + method.Groups - 1) / method.Groups;
            _groups = (context.Channels + _size - 1) / _size;
            ImageTensor image = context.Image;
            _plane = image.Height * image.Width;
            _alpha = new float[context.Targets.Count][];
            for (int t = 0; t < _alpha.Length; t++)
            {
                ReadOnlySpan<float> g = context.HeadGradients(t);
                var a = _alpha[t] = new float[context.Channels];
                int plane = context.Height * context.Width;
                for (int k = 0; k < a.Length; k++) a[k] = TensorPrimitives.Sum(g.Slice(k * plane, plane)) / plane; // eq. 2
            }
            _blurred = new float[image.Data.Length];
            Blur.Apply(image.Data, image.Channels, image.Height, image.Width, _blurred);
            _upsampler = new BilinearUpsampler(context.Height, context.Width, image.Height, image.Width);
            (_scratch, _lowRes, _mask) = (new float[_upsampler.ScratchLength], new float[context.Height * context.Width], new float[_plane]);
            _baseline = new float[context.Targets.Count];
            _scores = new float[context.Targets.Count * _groups];
            Array.Fill(_scores, float.NaN);
            _targetScores = new float[context.Targets.Count];
        }

        public override int Count => 1 + _context.Targets.Count * _groups;

        public override bool Write(int item, Span<float> input)
        {
            if (item == 0)
            {
                _blurred.CopyTo(input);
                return true;
            }
            int t = (item - 1) / _groups, l = (item - 1) % _groups;
            if (!Mask(t, l, _mask)) return false;
            // X ∘ M + X̃ ∘ (1 − M) = X̃ + M ∘ (X − X̃)
            float[] x = _context.Image.Data;
            for (int i = 0; i < x.Length; i++) input[i] = _blurred[i] + _mask[i % _plane] * (x[i] - _blurred[i]);
            return true;
        }

        public override void Read(int item, ReadOnlySpan<float> row)
        {
            _context.Scorer.Score(row, ScoreMode.Probability, _targetScores);
            if (item == 0) _targetScores.CopyTo(_baseline, 0);
            else _scores[item - 1] = _targetScores[(item - 1) / _groups];
        }

        public override IReadOnlyList<MethodResult> Finish()
        {
            var results = new MethodResult[_context.Targets.Count];
            for (int t = 0; t < results.Length; t++)
            {
                var map = new float[_plane];
                for (int l = 0; l < _groups; l++)
                {
                    float score = _scores[t * _groups + l];
                    if (float.IsNaN(score) || !Mask(t, l, _mask)) continue;
                    TensorPrimitives.MultiplyAdd(_mask, score - _baseline[t], map, map); // eq. 7-8
                }
                MapKernels.Relu(map);
                results[t] = new MethodResult(new SaliencyMap(_context.Image.Width, _context.Image.Height, map), _alpha[t]);
            }
            return results;
        }

        /// <summary>Target t's group l mask (eq. 3-5) into <paramref name="mask"/>; false when it is constant.</summary>
        private bool Mask(int t, int l, Span<float> mask)
        {
            int first = l * _size, count = Math.Min(_size, _context.Channels - first);
            Span<float> low = _lowRes;
            MapKernels.WeightedSum(_context.Activations.AsSpan(first * low.Length, count * low.Length), _alpha[t].AsSpan(first, count), low);
            MapKernels.Relu(low);
            float threshold = PercentileOf(low, Percentile);
            for (int i = 0; i < low.Length; i++) if (!(low[i] > threshold)) low[i] = 0;
            _upsampler.Upsample(low, mask, _scratch);
            return MapKernels.TryMinMaxNormalize(mask);
        }

        /// <summary>numpy.percentile's default (linear interpolation between the sorted values).</summary>
        private static float PercentileOf(ReadOnlySpan<float> values, double percent)
        {
            float[] sorted = values.ToArray();
            Array.Sort(sorted);
            double rank = percent / 100 * (sorted.Length - 1);
            int below = (int)Math.Floor(rank), above = Math.Min(below + 1, sorted.Length - 1);
            return (float)(sorted[below] + (rank - below) * (sorted[above] - sorted[below]));
        }
    }
}
