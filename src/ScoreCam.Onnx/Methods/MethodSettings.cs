using System.Collections.Immutable;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Values for the options methods declare (<see cref="MethodOption"/>), so that one settings object builds any method
/// of the <see cref="MethodCatalog"/> by name; each method reads the options it declares, and an option not given
/// has its declared default.
/// </summary>
public sealed class MethodSettings
{
    private readonly ImmutableDictionary<MethodOption, object?> _values;

    public MethodSettings() : this(ImmutableDictionary<MethodOption, object?>.Empty) { }

    private MethodSettings(ImmutableDictionary<MethodOption, object?> values) => _values = values;

    public T Get<T>(MethodOption<T> option) => _values.TryGetValue(option, out object? v) ? (T)v! : option.Default;

    /// <summary>A copy with <paramref name="option"/> set; a value the option does not allow is a <see cref="MethodOptionException"/>.</summary>
    public MethodSettings With<T>(MethodOption<T> option, T value) => new(_values.SetItem(option, option.Check(value)));

    /// <summary>A copy with the catalogue's option named <paramref name="name"/> read from <paramref name="text"/>.</summary>
    public MethodSettings With(string name, string text)
    {
        MethodOption option = MethodCatalog.FindOption(name)
            ?? throw new Core.ScoreCamException($"No method has an option '{name}'; the options are {string.Join(", ", MethodCatalog.Options.Select(o => o.Name))}.");
        return new(_values.SetItem(option, option.Parse(text)));
    }

    /// <summary>The options given (not left at their defaults), in no particular order.</summary>
    public IEnumerable<MethodOption> Given => _values.Keys;

    /// <summary>The values of <paramref name="options"/> as text, keyed by name: what a method reports as its <see cref="IExplanationMethod.Settings"/>.</summary>
    public static IReadOnlyDictionary<string, string> Describe(params (MethodOption Option, object? Value)[] options) =>
        options.ToDictionary(o => o.Option.Name, o => o.Value is null ? o.Option.DefaultText : o.Option.Format(o.Value));
}
