namespace ScoreCam.Onnx.Models;

/// <summary>What the model's output row holds, which decides how a class score is read from it.</summary>
public enum ModelOutputKind
{
    /// <summary>Pre-softmax class scores; class probabilities are their softmax.</summary>
    Logits,
    /// <summary>The graph already ends in Softmax: the outputs are probabilities and are used as they are.</summary>
    Probabilities,
    /// <summary>A binary classifier with one output unit: its probability is the sigmoid of that unit.</summary>
    SingleLogit,
}
