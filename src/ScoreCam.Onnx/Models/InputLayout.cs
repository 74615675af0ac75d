namespace ScoreCam.Onnx.Models;

/// <summary>How a model's image input orders its dimensions as exported.</summary>
public enum InputLayout
{
    /// <summary>N×C×H×W, as PyTorch exports.</summary>
    ChannelsFirst,

    /// <summary>N×H×W×C, as TensorFlow exports; the prepared model takes N×C×H×W and transposes inside the graph.</summary>
    ChannelsLast,
}
