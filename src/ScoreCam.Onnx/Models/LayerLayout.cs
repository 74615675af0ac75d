namespace ScoreCam.Onnx.Models;

/// <summary>How a target layer's tensor holds its K activation maps of h×w.</summary>
public enum LayerLayout
{
    /// <summary>N×K×h×w: convolutional feature maps.</summary>
    ChannelsFirst,
    /// <summary>N×h×w×K: channels-last feature maps (Swin's stages).</summary>
    ChannelsLast,
    /// <summary>N×T×K: tokens (ViT, DeiT): the prefix tokens (class, distillation), then the h×w patch grid row by row.</summary>
    Tokens,
}
