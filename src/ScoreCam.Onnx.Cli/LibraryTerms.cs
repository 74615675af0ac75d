using System.Text.RegularExpressions;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The library's messages name the API options that fix a problem (<c>ModelPreparationOptions.Layer</c>); the command
/// line reports them with the flags that set those options (<c>--layer</c>). One table, applied to every library
/// message the CLI prints.
/// </summary>
internal static class LibraryTerms
{
    // Most specific first: a form with values, then the bare name.
    private static readonly (Regex Api, string Flag)[] Flags =
    {
        (new(@"ModelPreparationOptions\.Feeds\[""([^""]*)""\]"), "--feed $1=FILE.npy"),
        (new(@"ModelPreparationOptions\.OutputName = ""([^""]*)"""), "--target-output $1"),
        (new(@"PreprocessOptions\.Width = (\d+), PreprocessOptions\.Height = (\d+)"), "--size $1x$2"),
        (new(@"\(PreprocessOptions\)"), "(--size, --resize, --mean, --std, --scale, --bgr)"),
        (new(@"ModelPreparationOptions\.Feeds\b"), "--feed"),
        (new(@"ModelPreparationOptions\.OutputName\b"), "--output"),
        (new(@"ModelPreparationOptions\.InputName\b"), "--input"),
        (new(@"ModelPreparationOptions\.Layer\b"), "--layer"),
        (new(@"ModelPreparationOptions\.ProbeSize\b"), "--size"),
        (new(@"ExplainerOptions\.MaxImagePixels\b"), "--max-megapixels"),
        (new(@"ExplainerOptions\.Labels\b"), "--labels"),
    };

    /// <summary><paramref name="message"/> with each API option it names replaced by its flag.</summary>
    public static string Rephrase(string message)
    {
        foreach (var (api, flag) in Flags) message = api.Replace(message, flag);
        return message;
    }
}
