namespace ScoreCam.Onnx.Methods;

/// <summary>The three kinds of method behind <see cref="IExplanationMethod"/>.</summary>
public enum MethodKind
{
    /// <summary>Channel weights combine the target layer's activation maps; the map is h×w.</summary>
    Cam,
    /// <summary>The result lives in the input space (C×H×W or H×W): input gradients, masked forwards.</summary>
    PixelSpace,
    /// <summary>A pixel-space result times a CAM display map (Guided Score-CAM, Guided Grad-CAM).</summary>
    Combination,
}
