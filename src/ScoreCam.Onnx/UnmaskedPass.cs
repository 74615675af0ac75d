using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx;

/// <summary>
/// The unmasked forward pass of one input: its output row, the target layer's activations and the prediction, what
/// every explanation of that input starts from. <see cref="CamExplainer.Forward"/> makes it; explanations by several
/// methods of the same input can share it (<see cref="CamExplainer.ExplainTargets(UnmaskedPass, IReadOnlyList{Methods.ExplanationTarget}, Methods.IExplanationMethod?, IProgress{Methods.ExplanationProgress}?, CancellationToken)"/>).
/// </summary>
public sealed class UnmaskedPass
{
    internal UnmaskedPass(CamExplainer owner, ImageTensor image, float[] scores, float[] activations, int channels, int height, int width,
        float[] probabilities, Prediction prediction, TimeSpan duration) =>
        (Owner, Image, Scores, Activations, Channels, Height, Width, Probabilities, Prediction, Duration) =
        (owner, image, scores, activations, channels, height, width, probabilities, prediction, duration);

    internal CamExplainer Owner { get; }
    public ImageTensor Image { get; }
    /// <summary>The model's output row for the input.</summary>
    public float[] Scores { get; }
    /// <summary>Activations A of the target layer, <see cref="Channels"/> planes of <see cref="Height"/>×<see cref="Width"/>.</summary>
    public float[] Activations { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    /// <summary>Class probabilities: the softmax of the output row, or the row itself when the model outputs probabilities.</summary>
    public float[] Probabilities { get; }
    public Prediction Prediction { get; }
    /// <summary>Time the pass took; part of every explanation's time that uses it.</summary>
    public TimeSpan Duration { get; }
}
