using System.Globalization;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// An option a method declares in its own file: its name, help, default and allowed values. The command line's flags
/// (<c>--NAME</c>), the HTTP service's query keys, an evaluation's resume fingerprint and the JSON's <c>settings</c>
/// are all made from these declarations, so a method with options is still one file and one catalogue line.
/// </summary>
public abstract class MethodOption
{
    private protected MethodOption(string name, string help) => (Name, Help) = (name, help);

    /// <summary>Lower-case words joined by '-', unique across the catalogue: the flag is <c>--</c> + name, the query key the name itself.</summary>
    public string Name { get; }
    public string Help { get; }
    /// <summary>The default as text, as <see cref="Parse"/> reads it.</summary>
    public abstract string DefaultText { get; }
    /// <summary>What values are allowed, in words ("an integer from 1 to 100000", "normalized or binarized").</summary>
    public abstract string Allowed { get; }
    /// <summary>Options that count passes (masks, samples, steps): a server caps them per request.</summary>
    public bool CountsPasses { get; private protected init; }

    /// <summary>Reads a value; text that is not an allowed value is a <see cref="MethodOptionException"/> that says which values are.</summary>
    public abstract object Parse(string text);

    public abstract string Format(object value);

    public override string ToString() => Name;

    public static MethodOption<int> Integer(string name, string help, int defaultValue, int min, int max, bool countsPasses = false) =>
        new(name, help, defaultValue, $"an integer from {min} to {max}",
            text => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v : null,
            v => v.ToString(CultureInfo.InvariantCulture)) { CountsPasses = countsPasses };

    /// <summary>An integer that may be left unset (null, written "all" or "none" as <paramref name="unset"/> says).</summary>
    public static MethodOption<int?> OptionalInteger(string name, string help, string unset, int min, int max) =>
        new(name, help, null, $"{unset} or an integer from {min} to {max}",
            text => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? (int?)v : null,
            v => v?.ToString(CultureInfo.InvariantCulture) ?? unset, acceptsUnset: unset);

    public static MethodOption<double> Number(string name, string help, double defaultValue, double min, double max) =>
        new(name, help, defaultValue, $"a number from {Format(min)} to {Format(max)}",
            text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max ? v : null,
            Format);

    /// <summary>An on/off option (default off): "true" or "false"; a command-line flag given without a value means on.</summary>
    public static MethodOption<bool> Switch(string name, string help) =>
        new(name, help, false, "true or false", text => bool.TryParse(text, out bool v) ? v : null, v => v ? "true" : "false");

    public static MethodOption<T> Choice<T>(string name, string help, T defaultValue, params (string Text, T Value)[] choices) where T : struct, Enum =>
        new(name, help, defaultValue, Or(choices.Select(c => c.Text).ToArray()),
            text => choices.FirstOrDefault(c => c.Text.Equals(text, StringComparison.OrdinalIgnoreCase)) is { Text: not null } c ? c.Value : null,
            v => choices.First(c => EqualityComparer<T>.Default.Equals(c.Value, v)).Text);

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Or(string[] words) => words.Length == 1 ? words[0] : $"{string.Join(", ", words[..^1])} or {words[^1]}";
}

/// <summary>A declared option of type <typeparamref name="T"/>; see <see cref="MethodOption"/>.</summary>
public sealed class MethodOption<T> : MethodOption
{
    private readonly Func<string, object?> _parse;
    private readonly Func<T, string> _format;
    private readonly string? _unset;

    internal MethodOption(string name, string help, T defaultValue, string allowed, Func<string, object?> parse, Func<T, string> format, string? acceptsUnset = null)
        : base(name, help) => (Default, Allowed, _parse, _format, _unset) = (defaultValue, allowed, parse, format, acceptsUnset);

    public T Default { get; }
    public override string Allowed { get; }
    public override string DefaultText => _format(Default);

    /// <summary>The value of <paramref name="text"/>; a <see cref="MethodOptionException"/> when it is not allowed.</summary>
    public T Read(string text)
    {
        string trimmed = text.Trim();
        if (_unset is not null && trimmed.Equals(_unset, StringComparison.OrdinalIgnoreCase)) return default!;
        return _parse(trimmed) is T value ? value : throw new MethodOptionException(this, text);
    }

    public override object Parse(string text) => Read(text)!;

    public override string Format(object value) => _format((T)value);

    /// <summary>Checks a value given in code against the allowed values (a value parsed from text is checked already).</summary>
    internal T Check(T value) => _unset is not null && value is null ? value : Read(_format(value));
}

/// <summary>A value an option does not allow; the message names the option (without any command-line prefix), the value and what is allowed.</summary>
public sealed class MethodOptionException(MethodOption option, string value)
    : Core.ScoreCamException($"{option.Name} must be {option.Allowed}; got '{value}'.")
{
    public MethodOption Option { get; } = option;
    public string Value { get; } = value;
}
