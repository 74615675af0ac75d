namespace ScoreCam.Onnx.Inference;

/// <summary>Where ONNX Runtime runs the model.</summary>
public enum ExecutionDevice
{
    Cpu,
    /// <summary>ONNX Runtime's CUDA execution provider (needs CUDA 13 and cuDNN 9 for ONNX Runtime 1.31).</summary>
    Cuda,
}
