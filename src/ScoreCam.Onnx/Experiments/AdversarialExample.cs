using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Experiments;

/// <summary>
/// The result of an attack: the adversarial input tensor (preprocessed like any input), the ε it was made with, the
/// attacked class, the model's prediction before and after, and the attacked class's probability before and after.
/// </summary>
public sealed record AdversarialExample(ImageTensor Input, float Epsilon, int TargetClass, Prediction Before, Prediction After,
    float TargetBefore, float TargetAfter);
