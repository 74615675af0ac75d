using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Imaging;

/// <summary>Reads and writes NumPy <c>.npy</c> float32 arrays (C order), for pipelines that preprocess elsewhere.</summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>The longest header accepted; NumPy writes a few hundred bytes.</summary>
    private const int MaxHeaderLength = 1 << 16;

    public static (float[] Data, int[] Shape) Read(string path)
    {
        using FileStream stream = Open(path);
        int[] shape = ReadHeader(stream, path);
        return (ReadData(stream, shape, path), shape);
    }

    /// <summary>
    /// An image tensor from a (1, C, H, W) or (C, H, W) float32 array of finite values; shape and pixel count are
    /// checked from the header before the data is read.
    /// </summary>
    public static ImageTensor ReadImageTensor(string path, long maxPixels = ImageLoader.DefaultMaxPixels)
    {
        using FileStream stream = Open(path);
        int[] shape = ReadHeader(stream, path);
        int[] chw = shape.Length switch
        {
            4 when shape[0] == 1 => shape[1..],
            3 => shape,
            _ => throw new ScoreCamException($"'{path}' has shape ({Dims(shape)}); an image tensor is (1, C, H, W) or (C, H, W)."),
        };
        if (chw.Any(d => d == 0)) throw new ScoreCamException($"'{path}' has shape ({Dims(shape)}), which holds no values.");
        if ((long)chw[1] * chw[2] > maxPixels)
            throw new ScoreCamException(
                $"'{path}' is {chw[2]}x{chw[1]}, over the limit of {maxPixels / 1e6:0.#} megapixels. Resize the tensor first or raise the limit (ExplainerOptions.MaxImagePixels).");
        float[] data = ReadData(stream, shape, path);
        int bad = Array.FindIndex(data, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new ScoreCamException($"'{path}' holds {data[bad]} at index {bad}; an image tensor must hold finite values.");
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

    private static FileStream Open(string path)
    {
        if (!File.Exists(path)) throw new ScoreCamException($"Tensor file '{path}' does not exist.");
        try { return File.OpenRead(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScoreCamException($"Tensor file '{path}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Reads and checks the header, leaving the stream at the first value; nothing sized by the header is allocated.</summary>
    private static int[] ReadHeader(FileStream stream, string path)
    {
        Span<byte> preamble = stackalloc byte[12];
        int read = stream.ReadAtLeast(preamble, preamble.Length, throwOnEndOfStream: false);
        if (read < 10 || !preamble[..6].SequenceEqual(Magic))
            throw new ScoreCamException($"'{path}' is not a NumPy .npy file (save it with numpy.save).");
        int major = preamble[6];
        if (major is < 1 or > 3)
            throw new ScoreCamException($"'{path}' is .npy format version {major}, which is not supported (1 to 3 are); save it with numpy.save.");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        int headerStart = major == 1 ? 10 : 12;
        if (headerLength > MaxHeaderLength || headerStart + headerLength > stream.Length)
            throw new ScoreCamException($"'{path}' has a truncated or corrupt .npy header (it claims {headerLength} bytes).");
        var headerBytes = new byte[headerLength];
        stream.Position = headerStart;
        stream.ReadExactly(headerBytes);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        string descr = HeaderField(header, "descr", path);
        if (descr is not ("'<f4'" or "'float32'"))
            throw new ScoreCamException($"'{path}' holds {descr.Trim('\'')} values; save the tensor as little-endian float32 (x.astype('<f4')).");
        if (HeaderField(header, "fortran_order", path) != "False")
            throw new ScoreCamException($"'{path}' is in Fortran order; save a C-ordered array (numpy.ascontiguousarray).");
        Match shapeField = ShapeRegex().Match(header);
        if (!shapeField.Success) throw new ScoreCamException($"'{path}' has no 'shape' in its .npy header.");
        var shape = new List<int>();
        foreach (string dim in shapeField.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(dim, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int d))
                throw new ScoreCamException($"'{path}' has an invalid shape '({shapeField.Groups[1].Value})' in its .npy header.");
            shape.Add(d);
        }

        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
            if (count > Array.MaxLength / sizeof(float))
                throw new ScoreCamException($"'{path}' claims shape ({Dims(shape)}), too many values for one tensor.");
        }
        long dataBytes = stream.Length - stream.Position;
        if (dataBytes != count * sizeof(float))
            throw new ScoreCamException($"'{path}' should hold {count} float32 values for shape ({Dims(shape)}) but holds {dataBytes / 4}; the file is truncated or corrupt.");
        return shape.ToArray();
    }

    private static float[] ReadData(FileStream stream, int[] shape, string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Reading .npy files needs a little-endian machine.");
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        try { stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())); }
        catch (IOException e) { throw new ScoreCamException($"Tensor file '{path}' cannot be read: {e.Message}", e); }
        return data;
    }

    private static string Dims(IEnumerable<int> shape) => string.Join(", ", shape);

    private static string HeaderField(string header, string name, string path)
    {
        var match = Regex.Match(header, $"'{name}'\\s*:\\s*([^,}}]+)");
        return match.Success ? match.Groups[1].Value.Trim() : throw new ScoreCamException($"'{path}' has no '{name}' in its .npy header.");
    }

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
