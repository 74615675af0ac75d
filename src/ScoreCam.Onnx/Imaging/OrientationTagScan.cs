using System.Buffers.Binary;

namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// Finds the EXIF Orientation entry in a file's own bytes, to say why a file's orientation cannot be used when the
/// decoder reports none: ImageSharp 2.1 drops an entry of the wrong type or count, and an unreadable EXIF block,
/// without a word. It walks the containers far enough to find the EXIF block (JPEG APP1 "Exif", PNG eXIf, WebP EXIF,
/// a TIFF's own first directory) and reads that block's first directory, every read bounded by the block.
/// </summary>
internal static class OrientationTagScan
{
    private const ushort OrientationTag = 0x0112, ShortType = 3;

    /// <summary>
    /// Why the Orientation entry of the picture at <paramref name="start"/> cannot be used, or null when the file has
    /// no EXIF block, no such entry, or a well-formed one.
    /// </summary>
    public static string? Problem(Stream stream, long start)
    {
        try
        {
            var head = new byte[12];
            stream.Position = start;
            if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length) return null;
            (long Offset, long Length)? block = head switch
            {
                [0xFF, 0xD8, ..] => JpegExif(stream, start + 2),
                [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => PngExif(stream, start + 8),
                [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P'] => WebpExif(stream, start + 12),
                [(byte)'I', (byte)'I', 42, 0, ..] or [(byte)'M', (byte)'M', 0, 42, ..] => (start, stream.Length - start),
                _ => null,
            };
            return block is { } b ? DirectoryProblem(stream, b.Offset, b.Length) : null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    /// <summary>The payload after "Exif\0\0" of the first APP1 segment that has it, before the scan data.</summary>
    private static (long, long)? JpegExif(Stream stream, long position)
    {
        var marker = new byte[4];
        var signature = new byte[6];
        while (position + 4 <= stream.Length)
        {
            Read(stream, position, marker);
            if (marker[0] != 0xFF) return null;
            if (marker[1] == 0xFF) { position++; continue; } // fill byte
            if (marker[1] is 0xDA or 0xD9) return null;      // start of scan, end of image: no more metadata
            if (marker[1] is >= 0xD0 and <= 0xD7 or 0x01) { position += 2; continue; } // markers without a length
            int length = BinaryPrimitives.ReadUInt16BigEndian(marker.AsSpan(2));
            if (length < 2) return null;
            if (marker[1] == 0xE1 && length >= 8)
            {
                Read(stream, position + 4, signature);
                if (signature.AsSpan().SequenceEqual("Exif\0\0"u8)) return (position + 10, Math.Min(length - 8, stream.Length - position - 10));
            }
            position += 2 + length;
        }
        return null;
    }

    private static (long, long)? PngExif(Stream stream, long position)
    {
        var header = new byte[8];
        while (position + 8 <= stream.Length)
        {
            Read(stream, position, header);
            long length = BinaryPrimitives.ReadUInt32BigEndian(header);
            ReadOnlySpan<byte> type = header.AsSpan(4);
            if (type.SequenceEqual("eXIf"u8)) return (position + 8, Math.Min(length, stream.Length - position - 8));
            if (type.SequenceEqual("IEND"u8)) return null;
            position += 12 + length;
        }
        return null;
    }

    private static (long, long)? WebpExif(Stream stream, long position)
    {
        var header = new byte[8];
        var signature = new byte[6];
        while (position + 8 <= stream.Length)
        {
            Read(stream, position, header);
            long length = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
            if (header.AsSpan(0, 4).SequenceEqual("EXIF"u8))
            {
                long offset = position + 8, available = Math.Min(length, stream.Length - offset);
                // Some writers keep JPEG's "Exif\0\0" before the TIFF header.
                if (available >= 6 && Read(stream, offset, signature).AsSpan().SequenceEqual("Exif\0\0"u8)) return (offset + 6, available - 6);
                return (offset, available);
            }
            position += 8 + length + (length & 1);
        }
        return null;
    }

    /// <summary>Reads the first directory of the TIFF-structured block and judges its Orientation entry.</summary>
    private static string? DirectoryProblem(Stream stream, long offset, long length)
    {
        const string Unreadable = "its EXIF data cannot be read";
        if (length < 8) return $"{Unreadable} (the block is {length} bytes, too short for its header)";
        var header = new byte[8];
        Read(stream, offset, header);
        bool little = header[0] == 'I' && header[1] == 'I';
        if (!little && !(header[0] == 'M' && header[1] == 'M')) return $"{Unreadable} (no byte-order mark)";
        ushort U16(ReadOnlySpan<byte> b) => little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
        uint U32(ReadOnlySpan<byte> b) => little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
        if (U16(header.AsSpan(2)) != 42) return null; // BigTIFF or another layout: not judged here
        long directory = U32(header.AsSpan(4));
        if (directory < 8 || directory + 2 > length) return $"{Unreadable} (its first directory lies outside the block)";
        var count = new byte[2];
        Read(stream, offset + directory, count);
        var entry = new byte[12];
        for (int i = 0; i < U16(count); i++)
        {
            long at = directory + 2 + 12L * i;
            if (at + 12 > length) return $"{Unreadable} (its first directory is cut short)";
            Read(stream, offset + at, entry);
            if (U16(entry) != OrientationTag) continue;
            ushort type = U16(entry.AsSpan(2));
            uint values = U32(entry.AsSpan(4));
            return type == ShortType && values == 1 ? null
                : $"its EXIF orientation entry holds {values} value{(values == 1 ? "" : "s")} of type {TypeName(type)}, not the one 16-bit value EXIF defines";
        }
        return null;
    }

    private static string TypeName(ushort type) => type switch
    {
        1 => "BYTE", 2 => "ASCII", 3 => "SHORT", 4 => "LONG", 5 => "RATIONAL", 6 => "SBYTE", 7 => "UNDEFINED", 8 => "SSHORT",
        9 => "SLONG", 10 => "SRATIONAL", 11 => "FLOAT", 12 => "DOUBLE",
        _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static byte[] Read(Stream stream, long position, byte[] buffer)
    {
        stream.Position = position;
        stream.ReadExactly(buffer);
        return buffer;
    }
}
