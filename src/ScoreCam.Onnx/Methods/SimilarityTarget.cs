using System.Numerics.Tensors;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Targets for models without a class head (feature extractors, embedding models): the score of an input is the
/// cosine similarity of its output vector to a reference embedding, so an explanation shows which regions of
/// image A make it look like image B. Score-CAM only needs a scalar per masked forward pass (paper section 5.5.3).
/// </summary>
public static class SimilarityTarget
{
    public static ExplanationTarget Cosine(float[] referenceEmbedding, string name = "cosine similarity to the reference")
    {
        if (referenceEmbedding.Length == 0) throw new ArgumentException("The reference embedding is empty.", nameof(referenceEmbedding));
        if (TensorPrimitives.Norm(referenceEmbedding) == 0f)
            throw new ScoreCamException("The reference embedding is all zeros, so cosine similarity to it is undefined; choose another reference image.");
        float[] reference = (float[])referenceEmbedding.Clone();
        return ExplanationTarget.Custom(name, outputs =>
        {
            if (outputs.Length != reference.Length)
                throw new ScoreCamException($"The model outputs {outputs.Length} values but the reference embedding has {reference.Length}.");
            float norm = TensorPrimitives.Norm(outputs);
            return norm == 0f ? 0f : TensorPrimitives.CosineSimilarity(outputs, reference);
        });
    }
}
