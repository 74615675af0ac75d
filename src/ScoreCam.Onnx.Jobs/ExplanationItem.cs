using System.Text.Json;

namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// One unit of work on the queue: explain one picture (by content key) with one method as the spec says. Its
/// <see cref="ResultKey"/> is a hash of the spec (which names the model by its content key), the picture's content
/// key and the method, so the same work always has the same key, on every machine and in every job.
/// </summary>
public sealed record ExplanationItem(ExplanationSpec Spec, string PictureKey, string PictureName, string Method)
{
    public string ResultKey { get; } = ContentKey.Of(Spec.ToJson(), PictureKey, Method);

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(new Message(Spec, PictureKey, PictureName, Method), ExplanationSpec.JsonOptions);

    /// <summary>Reads an item from a queue message; a message that is not one is a <see cref="JsonException"/>.</summary>
    public static ExplanationItem FromBytes(ReadOnlySpan<byte> bytes)
    {
        Message m = JsonSerializer.Deserialize<Message>(bytes, ExplanationSpec.JsonOptions) ?? throw new JsonException("The item is empty.");
        if (m.Spec is null || string.IsNullOrEmpty(m.PictureKey) || string.IsNullOrEmpty(m.Method))
            throw new JsonException("The item lacks its spec, picture key or method.");
        return new ExplanationItem(m.Spec, m.PictureKey, m.PictureName ?? m.PictureKey, m.Method);
    }

    private sealed record Message(ExplanationSpec Spec, string PictureKey, string? PictureName, string Method);
}
