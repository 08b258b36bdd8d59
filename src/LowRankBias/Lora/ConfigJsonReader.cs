using System.Text.Json;
using System.Text.Json.Nodes;

namespace LowRankBias.Lora;

/// <summary>
/// Typed reads from a JSON config object whose errors are one line naming the file, the key and what was expected,
/// e.g. <c>adapter/adapter_config.json: key 'r': expected an integer, got "two"</c>.
/// </summary>
internal sealed class ConfigJsonReader(JsonObject root, string source)
{
    private const string Integer = "an integer", Number = "a number", Boolean = "true or false", Text = "a string";

    public InvalidDataException Error(string key, string problem) => new($"{source}: key '{key}': {problem}");

    public int RequiredInt(string key, string meaning) => Int(key) ?? throw Missing(key, Integer, meaning);

    public double RequiredDouble(string key, string meaning) => Double(key) ?? throw Missing(key, Number, meaning);

    public int? Int(string key) => Present(key) is { } node ? IntOf(key, node) : null;

    public double? Double(string key) => Present(key) is { } node ? DoubleOf(key, node) : null;

    public bool? Bool(string key) => Present(key) is { } node ? BoolOf(key, node) : null;

    public string? String(string key) => Present(key) is { } node ? StringOf(key, node) : null;

    /// <summary>A string that must be one of <paramref name="allowed"/> (compared ordinally, or ignoring case).</summary>
    public string? OneOf(string key, IReadOnlyCollection<string> allowed, bool ignoreCase = false)
    {
        string? value = String(key);
        StringComparer comparer = ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        if (value is not null && !allowed.Contains(value, comparer))
            throw Error(key, $"unknown value \"{value}\", expected one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}");
        return value;
    }

    /// <summary>The raw node, or null when the key is absent or null.</summary>
    public JsonNode? Present(string key) => root[key] is { } node && node.GetValueKind() != JsonValueKind.Null ? node : null;

    public IReadOnlyList<T>? List<T>(string key, Func<string, JsonNode, T> element, string elementType)
    {
        if (Present(key) is not { } node) return null;
        if (node is not JsonArray array) throw Expected(key, $"a list of {elementType}", node);
        return array.Select((n, i) => n is null ? throw Expected($"{key}[{i}]", elementType, null) : element($"{key}[{i}]", n)).ToArray();
    }

    public Dictionary<string, T>? Map<T>(string key, Func<string, JsonNode, T> value, string valueType)
    {
        if (Present(key) is not { } node) return null;
        if (node is not JsonObject map) throw Expected(key, $"an object of {valueType} values", node);
        return map.ToDictionary(p => p.Key, p => p.Value is null ? throw Expected($"{key}.{p.Key}", valueType, null) : value($"{key}.{p.Key}", p.Value));
    }

    public int IntOf(string key, JsonNode node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i) ? i
        : node is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue(out double x) && x == Math.Floor(x) && Math.Abs(x) <= int.MaxValue ? (int)x
        : throw Expected(key, Integer, node);

    public double DoubleOf(string key, JsonNode node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double x) ? x : throw Expected(key, Number, node);

    public bool BoolOf(string key, JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Expected(key, Boolean, node),
    };

    public string StringOf(string key, JsonNode node) =>
        node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw Expected(key, Text, node);

    public InvalidDataException Expected(string key, string type, JsonNode? got) =>
        Error(key, $"expected {type}, got {got?.ToJsonString() ?? "null"}");

    private InvalidDataException Missing(string key, string type, string meaning) =>
        new($"{source}: missing required key '{key}' ({type}: {meaning})");
}
