using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// The fast gradient sign method (Goodfellow et al.), the paper's attack (section 5.4): one step of size ε along the
/// sign of the gradient of the cross-entropy loss of the target class, taken on the picture p ∈ [0, 1] (before the
/// preprocessing's scale, mean and std, at the input's resolution) and clipped back into [0, 1]; the result is
/// normalized as every input is.
/// </summary>
public static class Fgsm
{
    /// <summary>Attacks <paramref name="target"/> (default: the top prediction) on <paramref name="image"/> with step <paramref name="epsilon"/>.</summary>
    public static AdversarialExample Attack(CamExplainer explainer, ImageTensor image, float epsilon, ExplanationTarget? target = null)
    {
        if (!float.IsFinite(epsilon) || epsilon < 0) throw new ArgumentOutOfRangeException(nameof(epsilon), $"ε must be a non-negative number; got {epsilon}.");
        PreparedModel model = explainer.Model;
        float[] scores = explainer.Embed(image);
        var before = new float[scores.Length];
        ResolvedTarget.Probabilities(scores, model.OutputKind, before);
        ResolvedTarget resolved = (target ?? ExplanationTarget.TopPrediction).Resolve(new TargetModel(model, explainer.Labels, scores));
        int c = resolved.ClassIndex ?? throw new ArgumentException($"FGSM attacks a class: target '{resolved.Name}' is not one (a custom target, a similarity or a detection has no cross-entropy loss).", nameof(target));

        var gradients = explainer.Gradients.Input(image.Height, image.Width, guided: false);
        var seed = new float[model.OutputSize];
        LossSeed(model.OutputKind, gradients.Softmax, scores, before, c, seed);
        float[] gradient = gradients.Run(image.Data, seed).Gradients;
        ImageTensor adversarial = Step(image, gradient, explainer.Preprocessing, epsilon);
        float[] after = explainer.Probabilities(adversarial);
        return new AdversarialExample(adversarial, epsilon, c, PredictionOf(before, explainer.Labels), PredictionOf(after, explainer.Labels), before[c], after[c]);
    }

    /// <summary>
    /// p_adv = clip(p + ε·sign(∂L/∂p), 0, 1) with p = (x·std + mean) / scale, so ∂L/∂p = ∂L/∂x · scale / std per
    /// channel; returns x_adv = (p_adv·scale − mean) / std. <paramref name="inputGradient"/> is ∂L/∂x (C×H×W).
    /// </summary>
    public static ImageTensor Step(ImageTensor image, ReadOnlySpan<float> inputGradient, PreprocessOptions preprocessing, float epsilon)
    {
        if (inputGradient.Length != image.Data.Length)
            throw new ArgumentException($"The gradient has {inputGradient.Length} values; the image has {image.Data.Length}.", nameof(inputGradient));
        int plane = image.Height * image.Width;
        float scale = preprocessing.Scale;
        var adversarial = new float[image.Data.Length];
        for (int ch = 0; ch < image.Channels; ch++)
        {
            float mean = preprocessing.Mean[ch], std = preprocessing.Std[ch];
            for (int i = ch * plane; i < (ch + 1) * plane; i++)
            {
                float p = (image.Data[i] * std + mean) / scale;
                float dp = inputGradient[i] * scale / std;
                float pAdv = Math.Clamp(p + epsilon * MathF.Sign(dp), 0f, 1f);
                adversarial[i] = (pAdv * scale - mean) / std;
            }
        }
        return new ImageTensor(adversarial, image.Channels, image.Height, image.Width, image.SourceRegion);
    }

    /// <summary>
    /// The seed of the gradient graph for L = −log P(c): on pre-softmax logits softmax(z) − onehot(c); on a graph
    /// whose outputs are already probabilities, dL/dP = −onehot(c) / P(c); for a single sigmoid unit σ(z) − 1.
    /// P(c) − 1 is written as −Σ_{j≠c} P(j) (and σ(z) − 1 as −σ(−z)) so that a confident prediction keeps its sign.
    /// Through the model's own Softmax (<paramref name="softmax"/>) only c's group has a gradient: the values normalised with it.
    /// </summary>
    internal static void LossSeed(ModelOutputKind kind, SoftmaxAxis? softmax, ReadOnlySpan<float> scores, ReadOnlySpan<float> probabilities, int c, Span<float> seed)
    {
        seed.Clear();
        switch (kind)
        {
            case ModelOutputKind.SingleLogit:
                seed[0] = -MapKernels.Sigmoid(-scores[0]);
                break;
            case ModelOutputKind.Probabilities when softmax is null:
                seed[c] = -1f / Math.Max(probabilities[c], float.Epsilon);
                break;
            default:
                // c's group: the model's Softmax's, or the whole row for logits (eq. 3).
                SoftmaxAxis axis = softmax ?? new SoftmaxAxis(probabilities.Length, 1);
                double others = 0;
                foreach (int j in axis.GroupOf(c))
                    if (j != c) others += seed[j] = probabilities[j];
                seed[c] = (float)-others;
                break;
        }
    }

    private static Prediction PredictionOf(float[] probabilities, IReadOnlyList<string>? labels)
    {
        int top = ResolvedTarget.ArgMax(probabilities);
        return Prediction.Of(top, labels, probabilities[top]);
    }
}
