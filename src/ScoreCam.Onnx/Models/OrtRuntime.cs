using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// The one place the native ONNX Runtime is first touched: it turns a missing native package into an error that
/// names the package, keeps ONNX Runtime's own log lines off stderr (its failures reach the caller as exceptions
/// whose text the library's messages quote), and points ONNX Runtime at a model's external data folder.
/// </summary>
internal static partial class OrtRuntime
{
    // Documented ONNX Runtime session configuration key (onnxruntime_session_options_config_keys.h): where a model
    // loaded from bytes finds its external data files.
    private const string ExternalDataFolderKey = "session.model_external_initializers_file_folder_path";

    /// <summary>Session options with fatal-only logging and, when given, the folder of the model's external data.</summary>
    public static SessionOptions Options(string? externalDataFolder)
    {
        SessionOptions options;
        try
        {
            options = new SessionOptions();
        }
        catch (Exception e) when (IsMissingNativeRuntime(e))
        {
            throw new ScoreCamException(
                "The native ONNX Runtime library is not installed. ScoreCam.Onnx references only the managed API: add the package " +
                "Microsoft.ML.OnnxRuntime (CPU) or Microsoft.ML.OnnxRuntime.Gpu (CUDA) to the application. " + $"({FirstSentence(Innermost(e).Message)})", e);
        }
        options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        if (externalDataFolder is not null) options.AddSessionConfigEntry(ExternalDataFolderKey, externalDataFolder);
        return options;
    }

    /// <summary>
    /// ONNX Runtime's error text as one line without its source locations: "[ErrorCode:Fail] ... Status Message:
    /// /onnxruntime_src/.../reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(...) input_shape_size == ..."
    /// keeps the node, the op and the shapes, which tell the user what to fix.
    /// </summary>
    public static string Describe(OnnxRuntimeException e)
    {
        string text = SourceLocation().Replace(e.Message, "");
        text = ErrorCode().Replace(text, "");
        return Whitespace().Replace(text, " ").Trim().TrimEnd('.') + ".";
    }

    [GeneratedRegex(@"\S+\.(?:h|cc|cpp|cu):\d+ (?:[\w:~<>]+\([^)]*\)(?: const)? )?")]
    private static partial Regex SourceLocation();

    [GeneratedRegex(@"^\[ErrorCode:\w+\] ")]
    private static partial Regex ErrorCode();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>A TypeInitializationException or DllNotFoundException from ONNX Runtime's native bindings.</summary>
    internal static bool IsMissingNativeRuntime(Exception e) =>
        Innermost(e) is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException;

    private static string FirstSentence(string text)
    {
        int end = text.IndexOf(". ", StringComparison.Ordinal);
        return (end < 0 ? text : text[..(end + 1)]).Split('\n')[0].Trim();
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
