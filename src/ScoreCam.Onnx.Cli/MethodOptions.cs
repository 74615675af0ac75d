using System.CommandLine;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The method flags: one <c>--NAME</c> per option the catalogue's methods declare (<see cref="MethodCatalog.Options"/>),
/// with the declaration's help, default and allowed values, read into the library's <see cref="MethodSettings"/>.
/// A new method's options become flags of every command that takes methods without a change here.
/// </summary>
internal sealed class MethodOptions
{
    private readonly Dictionary<MethodOption, Option<string?>> _flags = MethodCatalog.Options.ToDictionary(o => o, o => new Option<string?>("--" + o.Name)
    {
        Description = $"{o.Help} {Capitalized(o.Allowed)}; default {o.DefaultText}.",
        HelpName = "value",
        // A switch given alone means on.
        Arity = o is MethodOption<bool> ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
    });

    /// <summary>The flag of <paramref name="option"/>.</summary>
    public Option<string?> this[MethodOption option] => _flags[option];

    /// <summary>Adds the flags, except those named in <paramref name="except"/> (a command that takes a list of them, as bench's channel counts).</summary>
    public void AddTo(Command command, params MethodOption[] except)
    {
        foreach (var (option, flag) in _flags)
            if (!except.Contains(option)) command.Options.Add(flag);
    }

    /// <summary>The settings the flags give; a value an option does not allow is a usage error naming the flag.</summary>
    public MethodSettings Settings(ParseResult r)
    {
        var settings = new MethodSettings();
        foreach (var (option, flag) in _flags)
            if (r.GetResult(flag) is not null && (r.GetValue(flag) ?? (option is MethodOption<bool> ? "true" : null)) is { } text)
                settings = Read(settings, option, text, "--");
        return settings;
    }

    /// <summary>Sets <paramref name="option"/> from text; a refused value is a usage error naming it as <paramref name="prefix"/> + name ("--" for flags, "" for query keys).</summary>
    public static MethodSettings Read(MethodSettings settings, MethodOption option, string text, string prefix)
    {
        try
        {
            return settings.With(option.Name, text);
        }
        catch (MethodOptionException e)
        {
            throw new UsageException($"{prefix}{option.Name} must be {option.Allowed}; got '{e.Value}'.");
        }
    }

    /// <summary>The method named <paramref name="name"/> from the library's catalogue; an unknown name is a usage error (with "did you mean").</summary>
    public static IExplanationMethod Create(string name, MethodSettings settings) =>
        MethodCatalog.TryFind(name, out MethodEntry entry) ? entry.Create(settings)
            : throw new UsageException(char.ToLowerInvariant(MethodCatalog.UnknownMethod(name)[0]) + MethodCatalog.UnknownMethod(name)[1..]);

    /// <summary>Several methods, comma-separated.</summary>
    public static List<IExplanationMethod> CreateAll(string names, MethodSettings settings)
    {
        var methods = names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => Create(n, settings)).ToList();
        return methods.Count > 0 ? methods : throw new UsageException("name at least one method.");
    }

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
