using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>
/// The gradient methods on the trained default model (onnx-models/fashion-clutter, once committed): on the
/// annotated single-item canvases, most of the map's energy falls in the item's box.
/// </summary>
public class GradCamDefaultModelTests
{
    [TestCase("gradcam")]
    [TestCase("gradcam++")]
    public void On_the_default_model_most_of_the_energy_falls_in_the_items_box(string name)
    {
        string modelPath = Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");
        File.Exists(modelPath).Should().BeTrue("the default model is committed under onnx-models/fashion-clutter");
        IExplanationMethod method = MethodCatalog.Create(name);
        using var explainer = CamExplainer.Open(modelPath, new ExplainerOptions { Method = method });
        AnnotatedSet set = AnnotatedSet.Read(Repository.Path("onnx-models", "eval", "single"));
        var scores = new List<double>();
        foreach (AnnotatedImage entry in set.Images.Take(12))
        {
            using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, entry.File));
            ImageTensor input = explainer.Preprocess(picture);
            AnnotatedItem item = entry.Items[0];
            BoundingBox box = input.SourceRegion is { } region ? item.Box.ToInput(region, input.Width, input.Height)
                : item.Box.ToInput(picture.Width, picture.Height, input.Width, input.Height);
            Explanation e = explainer.Explain(input, ExplanationTarget.Class(item.ClassIndex));
            scores.Add(EnergyPointingGame.Score(e.Heatmap, box));
        }
        scores.Average().Should().BeGreaterThan(0.5);
    }
}
