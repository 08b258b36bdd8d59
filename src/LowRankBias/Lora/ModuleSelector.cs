using System.Text.RegularExpressions;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Lora;

/// <summary>
/// Which modules a LoRA setting applies to, with PEFT's semantics for <c>target_modules</c> and
/// <c>exclude_modules</c>: a list of names matches a module whose dotted path equals a name or ends with
/// <c>"." + name</c>; a single string is a regular expression that must match the whole path; the string
/// <c>"all-linear"</c> selects every <see cref="Linear"/>. Strings and string arrays convert implicitly.
/// </summary>
public sealed class ModuleSelector
{
    /// <summary>PEFT's shorthand for every linear layer.</summary>
    public const string AllLinearShorthand = "all-linear";

    private readonly Regex? _regex;

    private ModuleSelector(IReadOnlyList<string>? names, string? regex, bool allLinear)
    {
        this.names = names;
        this.regex = regex;
        all_linear = allLinear;
        if (regex is not null)
        {
            try { _regex = new Regex($"^(?:{regex})$", RegexOptions.CultureInvariant); }
            catch (ArgumentException e) { throw new ArgumentException($"'{regex}' is not a valid regular expression: {e.Message}", nameof(regex), e); }
        }
    }

    /// <summary>The names or path suffixes, when this selector is a list; otherwise null.</summary>
    public IReadOnlyList<string>? names { get; }

    /// <summary>The regular expression matched against whole paths, when this selector is one; otherwise null.</summary>
    public string? regex { get; }

    /// <summary>True for <c>"all-linear"</c>.</summary>
    public bool all_linear { get; }

    /// <summary>A selector of module names or path suffixes.</summary>
    public static ModuleSelector Names(params IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        string[] list = names.ToArray();
        if (list.Length == 0) throw new ArgumentException("a module name list needs at least one name", nameof(names));
        foreach (string name in list)
            if (string.IsNullOrEmpty(name) || name.StartsWith('.') || name.EndsWith('.'))
                throw new ArgumentException($"'{name}' is not a module name or dotted path suffix", nameof(names));
        return new ModuleSelector(list, null, false);
    }

    /// <summary>A selector matching paths that the regular expression matches entirely.</summary>
    public static ModuleSelector Regex(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        return new ModuleSelector(null, pattern, false);
    }

    /// <summary>Every <see cref="Linear"/> module.</summary>
    public static ModuleSelector AllLinear { get; } = new(null, null, true);

    /// <summary>PEFT's reading of a single string: <c>"all-linear"</c> or a regular expression.</summary>
    public static implicit operator ModuleSelector(string pattern) =>
        pattern == AllLinearShorthand ? AllLinear : Regex(pattern);

    /// <summary>A list of names or path suffixes.</summary>
    public static implicit operator ModuleSelector(string[] names) => Names(names);

    /// <summary>Whether the module at <paramref name="path"/> is selected.</summary>
    public bool Matches(string path, Module module) =>
        all_linear ? module is Linear or Torch.Quantization.QuantizedLinear
        : _regex is not null ? _regex.IsMatch(path)
        : names!.Any(name => MatchesName(path, name));

    /// <summary>PEFT's list rule: the path is the name, or ends with "." followed by it.</summary>
    public static bool MatchesName(string path, string name) =>
        path == name || path.EndsWith("." + name, StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() =>
        all_linear ? AllLinearShorthand : regex ?? "[" + string.Join(", ", names!) + "]";
}
