namespace ScoreCam.Onnx.Tests.Support;

/// <summary>The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320), bit by bit.</summary>
internal static class Crc32
{
    public static uint Of(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
