namespace ScoreCam.Onnx.Models;

/// <summary>How to read a classifier graph; every field is optional and found automatically when null.</summary>
public sealed record ModelPreparationOptions
{
    /// <summary>Name of the image input; by default the one 4-D float input.</summary>
    public string? InputName { get; init; }

    /// <summary>Name of the class-score output; by default the one non-spatial output.</summary>
    public string? OutputName { get; init; }

    /// <summary>Target layer as an ONNX tensor name or node name; by default the last convolutional block.</summary>
    public string? Layer { get; init; }

    /// <summary>
    /// Fixed values of the model's inputs besides the image, by input name (a caption model's previous words, paper
    /// section 5.5.3), broadcast over every batch. An input that nothing feeds is refused.
    /// </summary>
    public IReadOnlyDictionary<string, InputFeed>? Feeds { get; init; }

    /// <summary>Input height and width used to probe shapes when the model leaves them symbolic.</summary>
    public (int Height, int Width) ProbeSize { get; init; } = (224, 224);
}
