using System.Runtime.InteropServices;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// Host ↔ device copies through the CUDA runtime's <c>cudaMemcpy</c> (synchronous), for tensors ONNX Runtime
/// allocated on the GPU: its managed API copies between devices only for plugin execution providers. The library
/// is found at first use, from the same search path ONNX Runtime's CUDA provider loads it from.
/// </summary>
internal static unsafe class CudaRuntime
{
    private const int HostToDeviceKind = 1, DeviceToHostKind = 2;
    private static readonly string[] Candidates = { "libcudart.so.13", "libcudart.so.12", "libcudart.so", "cudart64_13.dll", "cudart64_12.dll" };
    private static nint _memcpy;

    public static void HostToDevice(nint device, ReadOnlySpan<float> host)
    {
        fixed (float* source = host) Copy(device, (nint)source, host.Length, HostToDeviceKind);
    }

    public static void DeviceToHost(Span<float> host, nint device)
    {
        fixed (float* destination = host) Copy((nint)destination, device, host.Length, DeviceToHostKind);
    }

    private static void Copy(nint destination, nint source, int floats, int kind)
    {
        var memcpy = (delegate* unmanaged<nint, nint, nuint, int, int>)Memcpy();
        int status = memcpy(destination, source, (nuint)floats * sizeof(float), kind);
        if (status != 0) throw new ScoreCamException($"cudaMemcpy failed with CUDA error {status}.");
    }

    private static nint Memcpy()
    {
        if (_memcpy != 0) return _memcpy;
        foreach (string name in Candidates)
            if (NativeLibrary.TryLoad(name, out nint library) && NativeLibrary.TryGetExport(library, "cudaMemcpy", out nint export))
                return _memcpy = export;
        throw new ScoreCamException(
            "The CUDA runtime library (libcudart) was not found; device-resident buffers on CUDA need it. Put CUDA's libraries on the library search path or turn device-resident buffers off.");
    }
}
