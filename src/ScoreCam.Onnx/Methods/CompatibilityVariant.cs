namespace ScoreCam.Onnx.Methods;

/// <summary>Whose numbers a method reproduces: the paper's (default) or another public implementation's.</summary>
public enum CompatibilityVariant
{
    /// <summary>The papers' definitions (Score-CAM: section 4, constant maps skipped, weight = target probability of M_k).</summary>
    Paper,
    /// <summary>
    /// jacobgil/pytorch-grad-cam. Score-CAM: upsampling with align_corners=True, masks (up − min)/(max − min + 1e-8) with
    /// constant maps kept as all-zero masks, raw target logit per mask, softmax of those across channels. Grad-CAM++: 1e-6 added to alpha's
    /// denominator. XGrad-CAM: 1e-7 added to Σ A. Its display map (min-max, bilinear resize, min-max) is the paper's heatmap.
    /// </summary>
    PytorchGradCam,
    /// <summary>
    /// frgfm/torch-cam. Score-CAM: maps min-max normalized before upsampling (align_corners=False), weight = softmax across
    /// channels of the target logit's increase over the unmasked input, Y^c(M_k) − Y^c(X). Grad-CAM++: alpha = g² (its
    /// in-place division acts on a copy), so w_k = Σ g² ReLU(g). XGrad-CAM: 1e-8 added to Σ A.
    /// </summary>
    TorchCam,
}
