namespace ScoreCam.Onnx.Core;

/// <summary>
/// An error the caller can fix (a missing or invalid file, a layer or class that does not exist, an image too
/// large). The message says what was wrong and what to do; it is meant to be shown to a user as it is.
/// </summary>
public class ScoreCamException : Exception
{
    public ScoreCamException(string message) : base(message) { }
    public ScoreCamException(string message, Exception inner) : base(message, inner) { }
}
