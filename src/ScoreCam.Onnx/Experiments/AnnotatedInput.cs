using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Metrics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// A picture of an annotated set ready for an experiment: the preprocessed input, its first annotated class (the
/// true class) and that class's boxes in input pixels (through the preprocessing's crop when there is one).
/// </summary>
public sealed record AnnotatedInput(AnnotatedImage Image, ImageTensor Input, int TrueClass, IReadOnlyList<BoundingBox> Boxes)
{
    public static AnnotatedInput Load(CamExplainer explainer, AnnotatedSet set, AnnotatedImage image)
    {
        if (image.Items.Count == 0) throw new ScoreCamException($"{image.File} has no annotated object; an experiment needs its true class and box.");
        using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, image.File));
        ImageTensor input = explainer.Preprocess(picture);
        int c = image.Items[0].ClassIndex;
        if (c < 0 || c >= explainer.Model.OutputSize)
            throw new ScoreCamException($"{image.File}: class {c} is not one of the model's {explainer.Model.OutputSize} outputs; is the set annotated for this model?");
        var boxes = image.Items.Where(i => i.ClassIndex == c).Select(i => input.SourceRegion is { } region
            ? i.Box.ToInput(region, input.Width, input.Height)
            : i.Box.ToInput(picture.Width, picture.Height, input.Width, input.Height)).ToList();
        return new AnnotatedInput(image, input, c, boxes);
    }
}
