using System.Security.Cryptography;

namespace ScoreCam.Onnx.Jobs;

/// <summary>Content addresses: the lower-case hex SHA-256 of bytes, so equal content gets one name on every machine.</summary>
public static class ContentKey
{
    public static string Of(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The key of several parts, each length-prefixed so that no two different sequences of parts give the same bytes.</summary>
    public static string Of(params string[] parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (string part in parts)
        {
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(part);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
