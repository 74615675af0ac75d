using System.Text.Json;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// One unit of work on the queue: explain one picture (by content key) with one method, its declared options set as
/// <see cref="Settings"/> says (name → value as text, what the method reports as its settings), as the spec says.
/// Its <see cref="ResultKey"/> is a hash of the spec (which names the model by its content key), the picture's
/// content key, the method and its settings, so the same work always has the same key, on every machine and in
/// every job.
/// </summary>
public sealed record ExplanationItem(ExplanationSpec Spec, string PictureKey, string PictureName, string Method, IReadOnlyDictionary<string, string> Settings)
{
    public string ResultKey { get; } = ContentKey.Of(Spec.ToJson(), PictureKey, Method,
        string.Join('\n', Settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}")));

    /// <summary>The item of <paramref name="method"/> as it is configured.</summary>
    public static ExplanationItem Of(ExplanationSpec spec, string pictureKey, string pictureName, IExplanationMethod method) =>
        new(spec, pictureKey, pictureName, method.Name, new SortedDictionary<string, string>(method.Settings.ToDictionary(), StringComparer.Ordinal));

    /// <summary>The method, built from the catalogue with the item's settings; an unknown method or option is a <see cref="Core.ScoreCamException"/>.</summary>
    public IExplanationMethod CreateMethod()
    {
        if (!MethodCatalog.TryFind(Method, out MethodEntry entry)) throw new Core.ScoreCamException(MethodCatalog.UnknownMethod(Method));
        var settings = new MethodSettings();
        foreach (var (name, value) in Settings) settings = settings.With(name, value);
        return entry.Create(settings);
    }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(new Message(Spec, PictureKey, PictureName, Method, Settings), ExplanationSpec.JsonOptions);

    /// <summary>Reads an item from a queue message; a message that is not one is a <see cref="JsonException"/>.</summary>
    public static ExplanationItem FromBytes(ReadOnlySpan<byte> bytes)
    {
        Message m = JsonSerializer.Deserialize<Message>(bytes, ExplanationSpec.JsonOptions) ?? throw new JsonException("The item is empty.");
        if (m.Spec is null || string.IsNullOrEmpty(m.PictureKey) || string.IsNullOrEmpty(m.Method))
            throw new JsonException("The item lacks its spec, picture key or method.");
        return new ExplanationItem(m.Spec, m.PictureKey, m.PictureName ?? m.PictureKey, m.Method, m.Settings ?? new Dictionary<string, string>());
    }

    private sealed record Message(ExplanationSpec Spec, string PictureKey, string? PictureName, string Method, IReadOnlyDictionary<string, string>? Settings);
}
