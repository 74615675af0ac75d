using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A segmenter's class summed over a region of its output (pytorch-grad-cam's SemanticSegmentationTarget):
/// S = Σ_{p ∈ R} y_c(p), with y the output's values (<see cref="ScoreMode.RawScore"/>, the logits) or the per-pixel
/// softmax over the classes (<see cref="ScoreMode.Probability"/>, each pixel's probability of c). The output is one
/// map per class, [C, H, W], or channels-last [H, W, C]. The region is fixed when the target is resolved: by default
/// the pixels the unmasked output assigns to the class (its argmax), else a box or a mask (<see cref="SegmentationRegion"/>).
/// </summary>
/// <param name="Category">The class: an index or a label (as <see cref="ExplanationTarget.Parse"/> reads it); null: the class the
/// unmasked output assigns the most pixels, class 0 (background in torchvision's and VOC's layouts) excepted.</param>
/// <param name="Region">The region; null: <see cref="SegmentationRegion.Predicted"/>.</param>
/// <param name="ChannelsLast">Whether the output is [H, W, C]; null: the layout whose class axis has the labels'
/// count, or else the smaller of the first and last axes.</param>
public sealed record SegmentationTarget(string? Category = null, SegmentationRegion? Region = null, bool? ChannelsLast = null) : ExplanationTarget
{
    public override ResolvedTarget Resolve(TargetModel model)
    {
        var layout = SegmentationLayout.Of(model, ChannelsLast);
        float[] unmasked = model.UnmaskedOutput;
        int c = Category is null ? layout.MostAssigned(unmasked) : ClassIndex(model, layout, Category);
        SegmentationRegion region = Region ?? SegmentationRegion.Predicted;
        bool[] inside = region.Pixels(layout, model, c);
        int[] pixels = Enumerable.Range(0, inside.Length).Where(p => inside[p]).ToArray();
        string label = model.LabelOf(c) ?? $"class {c}";
        if (pixels.Length == 0)
            throw new ScoreCamException(region is SegmentationRegion.PredictedRegion
                ? $"The model assigns no pixel to {label}, so its predicted region is empty. Choose a class it finds, or give the region as a box or a mask."
                : $"The region ({region.Describe()}) holds no pixel of the model's {layout.Width}x{layout.Height} output.");
        return new RegionScore($"{label} over {region.Describe()} ({pixels.Length} px)", model.LabelOf(c), layout, c, pixels, inside);
    }

    private static int ClassIndex(TargetModel model, SegmentationLayout layout, string text)
    {
        if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            if (index < 0 || index >= layout.Classes)
                throw new ScoreCamException($"Class index {index} is out of range: the segmenter's output has {layout.Classes} classes (valid indices 0..{layout.Classes - 1}).");
            return index;
        }
        if (model.Labels is null)
            throw new ScoreCamException($"Class '{text}' is not a number and the model has no labels file: give a class index or a labels file.");
        for (int i = 0; i < model.Labels.Count && i < layout.Classes; i++)
            if (string.Equals(model.Labels[i], text, StringComparison.OrdinalIgnoreCase)) return i;
        throw new ScoreCamException($"Class '{text}' is not among the model's labels ({string.Join(", ", model.Labels.Take(layout.Classes))}).");
    }

    /// <summary>The class's score over the resolved region; its derivative is the indicator of the region's pixels.</summary>
    public sealed class RegionScore : ResolvedTarget
    {
        private readonly SegmentationLayout _layout;
        private readonly int _class;
        private readonly int[] _pixels;

        internal RegionScore(string name, string? label, SegmentationLayout layout, int c, int[] pixels, bool[] inside) : base(name, null, label) =>
            (_layout, _class, _pixels, Inside) = (layout, c, pixels, inside);

        /// <summary>The class whose score is summed (an index into the output's class axis).</summary>
        public int Class => _class;
        /// <summary>The region over the output's pixels, row by row (<see cref="Width"/> × <see cref="Height"/>).</summary>
        public IReadOnlyList<bool> Inside { get; }
        public int Width => _layout.Width;
        public int Height => _layout.Height;

        public override float Score(TargetOutputs outputs, ScoreMode mode)
        {
            ReadOnlySpan<float> v = outputs.Values;
            double sum = 0;
            foreach (int p in _pixels)
                sum += mode == ScoreMode.RawScore ? v[_layout.Index(_class, p)] : _layout.Probability(v, _class, p);
            return (float)sum;
        }

        public override void Derivative(TargetOutputs outputs, Span<float> seed)
        {
            seed.Clear();
            foreach (int p in _pixels) seed[_layout.Index(_class, p)] = 1f;
        }
    }
}
