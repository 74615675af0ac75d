using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Methods;

/// <summary>What a target is resolved against: the prepared model, its labels and the unmasked input's output row.</summary>
public sealed class TargetModel
{
    internal TargetModel(PreparedModel model, IReadOnlyList<string>? labels, float[] unmaskedOutput, SourceRegion? source = null) =>
        (Model, Labels, UnmaskedOutput, Source) = (model, labels, unmaskedOutput, source);

    public PreparedModel Model { get; }
    /// <summary>Class labels, or null when the model has no labels file.</summary>
    public IReadOnlyList<string>? Labels { get; }
    /// <summary>The unmasked input's values of the output the model was prepared to score (<see cref="PreparedModel.OutputName"/>).</summary>
    public float[] UnmaskedOutput { get; }
    /// <summary>The part of the original picture the input shows (all of it stretched, or a centre crop), or null when unknown (taken as the whole picture, stretched).</summary>
    public SourceRegion? Source { get; }

    /// <summary>The unmasked input's outputs as targets read them.</summary>
    public TargetOutputs Unmasked => new(Model.OutputName, UnmaskedOutput, Model.OutputShape, default);

    /// <summary>The label of class <paramref name="index"/>, or null.</summary>
    public string? LabelOf(int index) => Labels is not null && index >= 0 && index < Labels.Count ? Labels[index] : null;
}
