using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Tests.Support;

/// <summary>Compares two prepared models on one image: the same scores and the same target-layer activations.</summary>
internal static class ForwardPass
{
    public static void ShouldEqual(PreparedModel actual, PreparedModel expected, ImageTensor image)
    {
        using var a = new ModelSession(actual);
        using var e = new ModelSession(expected);
        var (scores, activations, _, _, _) = a.Forward(image);
        var (expectedScores, expectedActivations, _, _, _) = e.Forward(image);
        scores.Should().Equal(expectedScores);
        activations.Should().Equal(expectedActivations);
    }
}
