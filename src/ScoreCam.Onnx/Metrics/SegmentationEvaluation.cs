using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// A segmenter over an annotated set whose pictures come with their items' pixels (<see cref="ItemMapSuffix"/>: a gray
/// picture beside each, 0 for no item and i + 1 for item i), one row per item and method: the item's class summed over
/// the item's own pixels (<see cref="SegmentationTarget"/> with the item's mask as its region) is explained, and the
/// share of the map's energy that falls inside the item's pixels is measured (the energy-based pointing game of the
/// paper's section 5.2.2 with the item's pixels for its box), with the share on the other items' pixels. The row also
/// says how well the model found the item: the share of its pixels the model assigns to its class.
/// </summary>
public sealed class SegmentationEvaluation(IReadOnlyList<IExplanationMethod> methods)
{
    /// <summary>The item map of <c>NAME.png</c> is <c>NAME.items.png</c>.</summary>
    public const string ItemMapSuffix = ".items.png";

    public IReadOnlyList<IExplanationMethod> Methods { get; } = methods;

    /// <summary>The item map's path for picture <paramref name="file"/> of <paramref name="set"/>.</summary>
    public static string ItemMapPath(AnnotatedSet set, string file) =>
        Path.Combine(set.Folder, Path.ChangeExtension(file, null) + ItemMapSuffix);

    /// <summary>The rows of one picture of <paramref name="set"/>: every item with every method, the methods' passes shared across its items.</summary>
    public IReadOnlyList<SegmentationRow> Evaluate(CamExplainer explainer, AnnotatedSet set, AnnotatedImage image, CancellationToken cancellationToken = default)
    {
        if (image.Items.Count == 0) return Array.Empty<SegmentationRow>();
        string mapPath = ItemMapPath(set, image.File);
        if (!File.Exists(mapPath))
            throw new ScoreCamException($"{image.File} of '{set.Folder}' has no item map {Path.GetFileName(mapPath)}: a segmenter is evaluated on each item's " +
                "pixels, given as a gray picture of the picture's size beside it (0: no item, i + 1: item i of annotations.json).");
        using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, image.File));
        byte[] owner = ReadItemMap(mapPath, picture.Width, picture.Height, image.Items.Count);
        ImageTensor input = explainer.Preprocess(picture);
        var itemPixels = Enumerable.Range(0, image.Items.Count).Select(i => InputPixels(owner, picture.Width, picture.Height, input, i + 1)).ToList();
        UnmaskedPass pass = explainer.Forward(input);
        var targets = image.Items.Select((item, i) => (ExplanationTarget)new SegmentationTarget(
            item.ClassIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
            SegmentationRegion.Mask(owner.Select(o => (byte)(o == i + 1 ? 1 : 0)).ToArray(), picture.Width, picture.Height))).ToList();
        var model = new TargetModel(explainer.Model, explainer.Labels, pass.Scores, input.SourceRegion);
        var assigned = targets.Select((t, i) => AssignedShare(model, (SegmentationTarget.RegionScore)t.Resolve(model))).ToList();
        var rows = new List<SegmentationRow>();
        foreach (IExplanationMethod method in Methods)
        {
            var clock = Stopwatch.StartNew();
            IReadOnlyList<Explanation> explanations = explainer.ExplainTargets(pass, targets, method, null, cancellationToken);
            double seconds = clock.Elapsed.TotalSeconds / targets.Count;
            for (int i = 0; i < targets.Count; i++)
            {
                SaliencyMap map = explanations[i].Heatmap;
                bool[] others = new bool[map.Values.Length];
                for (int j = 0; j < itemPixels.Count; j++)
                    if (j != i)
                        for (int p = 0; p < others.Length; p++) others[p] |= itemPixels[j][p];
                rows.Add(new SegmentationRow(image.File, i, image.Items[i].ClassIndex, method.Name, explanations[i].Target.Score,
                    EnergyPointingGame.Score(map, itemPixels[i]), image.Items.Count > 1 ? EnergyPointingGame.Score(map, others) : null, assigned[i],
                    explanations[i].ForwardPasses, seconds));
            }
        }
        return rows;
    }

    /// <summary>The share of the region's output pixels that the unmasked output assigns to the target's class (its argmax).</summary>
    private static float AssignedShare(TargetModel model, SegmentationTarget.RegionScore region)
    {
        var layout = SegmentationLayout.Of(model, null);
        int inside = 0, assigned = 0;
        for (int p = 0; p < region.Inside.Count; p++)
        {
            if (!region.Inside[p]) continue;
            inside++;
            if (layout.ArgMax(model.UnmaskedOutput, p) == region.Class) assigned++;
        }
        return inside == 0 ? 0 : (float)assigned / inside;
    }

    private static byte[] ReadItemMap(string path, int width, int height, int items)
    {
        using Image<L8> map = Image.Load<L8>(path);
        if (map.Width != width || map.Height != height)
            throw new ScoreCamException($"The item map '{path}' is {map.Width}x{map.Height}; its picture is {width}x{height}.");
        var values = new byte[width * height];
        map.CopyPixelDataTo(values);
        if (values.Max() > items)
            throw new ScoreCamException($"The item map '{path}' has the value {values.Max()}, but its picture has {items} annotated item(s): 0 is no item, i + 1 item i.");
        return values;
    }

    /// <summary>
    /// The input tensor's pixels (row by row) whose centre falls on item <paramref name="value"/> of the picture's item
    /// map, through the part of the picture the tensor shows (a crop or the whole picture, stretched).
    /// </summary>
    internal static bool[] InputPixels(byte[] owner, int pictureWidth, int pictureHeight, ImageTensor input, int value)
    {
        SourceRegion region = input.SourceRegion ?? new SourceRegion(pictureWidth, pictureHeight, 0, 0, pictureWidth, pictureHeight);
        var inside = new bool[input.Width * input.Height];
        for (int y = 0; y < input.Height; y++)
        {
            int py = Math.Min(pictureHeight - 1, region.Y + (int)((y + 0.5) * region.Height / input.Height));
            for (int x = 0; x < input.Width; x++)
            {
                int px = Math.Min(pictureWidth - 1, region.X + (int)((x + 0.5) * region.Width / input.Width));
                inside[y * input.Width + x] = owner[py * pictureWidth + px] == value;
            }
        }
        return inside;
    }
}
