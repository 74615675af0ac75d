using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Imaging;

/// <summary>Reads and writes NumPy <c>.npy</c> float32 arrays (C order), for pipelines that preprocess elsewhere.</summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    public static (float[] Data, int[] Shape) Read(string path)
    {
        if (!File.Exists(path)) throw new ScoreCamException($"Tensor file '{path}' does not exist.");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new ScoreCamException($"'{path}' is not a NumPy .npy file (save it with numpy.save).");
        int major = bytes[6];
        int headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        int headerStart = major == 1 ? 10 : 12;
        if (headerStart + headerLength > bytes.Length) throw new ScoreCamException($"'{path}' has a truncated .npy header.");
        string header = Encoding.Latin1.GetString(bytes, headerStart, headerLength);

        string descr = HeaderField(header, "descr", path);
        if (descr is not ("'<f4'" or "'float32'"))
            throw new ScoreCamException($"'{path}' holds {descr.Trim('\'')} values; save the tensor as float32 (x.astype(numpy.float32)).");
        if (HeaderField(header, "fortran_order", path) != "False")
            throw new ScoreCamException($"'{path}' is in Fortran order; save a C-ordered array (numpy.ascontiguousarray).");
        int[] shape = ShapeRegex().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();

        long count = shape.Aggregate(1L, (a, b) => a * b);
        int dataStart = headerStart + headerLength;
        if (bytes.Length - dataStart != count * 4)
            throw new ScoreCamException($"'{path}' should hold {count} float32 values for shape ({string.Join(", ", shape)}) but holds {(bytes.Length - dataStart) / 4}; the file is truncated or corrupt.");
        var data = new float[count];
        Buffer.BlockCopy(bytes, dataStart, data, 0, (int)(count * 4));
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Reading .npy files needs a little-endian machine.");
        return (data, shape);
    }

    /// <summary>An image tensor from a (1, C, H, W) or (C, H, W) float32 array.</summary>
    public static ImageTensor ReadImageTensor(string path)
    {
        var (data, shape) = Read(path);
        int[] chw = shape.Length switch
        {
            4 when shape[0] == 1 => shape[1..],
            3 => shape,
            _ => throw new ScoreCamException($"'{path}' has shape ({string.Join(", ", shape)}); an image tensor is (1, C, H, W) or (C, H, W)."),
        };
        return new ImageTensor(data, chw[0], chw[1], chw[2]);
    }

    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape)
    {
        string dims = string.Join(", ", shape) + (shape.Length == 1 ? "," : "");
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = Magic.Length + 4 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        var bytes = new byte[Magic.Length + 4 + header.Length + data.Length * 4];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).CopyTo(bytes.AsSpan(10 + header.Length));
        AtomicFile.Write(path, bytes);
    }

    private static string HeaderField(string header, string name, string path)
    {
        var match = Regex.Match(header, $"'{name}'\\s*:\\s*([^,}}]+)");
        return match.Success ? match.Groups[1].Value.Trim() : throw new ScoreCamException($"'{path}' has no '{name}' in its .npy header.");
    }

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
