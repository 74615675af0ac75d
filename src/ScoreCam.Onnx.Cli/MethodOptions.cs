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
        MethodCatalog.TryFind(name, out MethodEntry entry) ? entry.Create(settings) : throw new UsageException(Uncapitalized(MethodCatalog.UnknownMethod(name)));

    /// <summary>
    /// Several methods, comma-separated, for a command that explains with the methods chosen: an option given that none
    /// of them declares is a usage error (see <see cref="RefuseUnreached"/>); one that some declare goes to those.
    /// </summary>
    public static List<IExplanationMethod> CreateChosen(string names, MethodSettings settings)
    {
        RefuseUnreached(settings.Given, names, "--");
        return CreateAll(names, settings);
    }

    /// <summary>Several methods, comma-separated, each reading the options it declares; a command that takes this says which methods an option reached (<see cref="Reach"/>).</summary>
    public static List<IExplanationMethod> CreateAll(string names, MethodSettings settings)
    {
        var methods = Split(names).Select(n => Create(n, settings)).ToList();
        return methods.Count > 0 ? methods : throw new UsageException("name at least one method.");
    }

    /// <summary>
    /// Refuses an option in <paramref name="given"/> that none of the methods named in <paramref name="names"/> declares,
    /// naming it (as <paramref name="prefix"/> + name), the chosen methods and the methods that declare it: it would be ignored.
    /// </summary>
    public static void RefuseUnreached(IEnumerable<MethodOption> given, string names, string prefix)
    {
        List<MethodEntry> chosen = Entries(names);
        foreach (MethodOption option in given.OrderBy(o => o.Name, StringComparer.Ordinal))
            if (!chosen.Any(e => e.Options.Contains(option)))
                throw new UsageException($"{prefix}{option.Name} is not an option of {Join(chosen.Select(e => e.Name), "or")}; it is an option of {Join(Declaring(option), "and")}.");
    }

    /// <summary>One line per option given: the methods named in <paramref name="names"/> that it reached, and those it did not.</summary>
    public static IEnumerable<string> Reach(MethodSettings settings, string names)
    {
        List<MethodEntry> chosen = Entries(names);
        foreach (MethodOption option in settings.Given.OrderBy(o => o.Name, StringComparer.Ordinal))
        {
            var reached = chosen.Where(e => e.Options.Contains(option)).Select(e => e.Name).ToList();
            var missed = chosen.Where(e => !e.Options.Contains(option)).Select(e => e.Name).ToList();
            yield return reached.Count == 0
                ? $"--{option.Name} reached none of the methods ({Join(missed, "and")} {(missed.Count == 1 ? "does" : "do")} not take it; it is an option of {Join(Declaring(option), "and")})."
                : $"--{option.Name} reached {Join(reached, "and")}{(missed.Count > 0 ? $", not {Join(missed, "or")}" : "")}.";
        }
    }

    private static List<MethodEntry> Entries(string names) =>
        Split(names).Select(n => MethodCatalog.TryFind(n, out MethodEntry entry) ? entry : throw new UsageException(Uncapitalized(MethodCatalog.UnknownMethod(n))))
            .Distinct().ToList();

    private static IEnumerable<string> Declaring(MethodOption option) => MethodCatalog.Entries.Where(e => e.Options.Contains(option)).Select(e => e.Name);

    private static string[] Split(string names) => names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>"a", "a or b", "a, b or c".</summary>
    private static string Join(IEnumerable<string> items, string conjunction)
    {
        var list = items.ToList();
        return list.Count <= 1 ? string.Concat(list) : $"{string.Join(", ", list.Take(list.Count - 1))} {conjunction} {list[^1]}";
    }

    private static string Uncapitalized(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
