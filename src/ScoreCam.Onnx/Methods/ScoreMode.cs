namespace ScoreCam.Onnx.Methods;

/// <summary>How a class's score is read from a model output row.</summary>
public enum ScoreMode
{
    /// <summary>The class probability: softmax of the logits (paper eq. 3), the output itself for a model that ends
    /// in Softmax, or the sigmoid of a single-logit binary classifier.</summary>
    Probability,
    /// <summary>The raw pre-softmax score (the paper's section 4.3 / Fig. 5 variant).</summary>
    RawScore,
}
