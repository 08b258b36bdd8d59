using System.Text.Json;

namespace LowRankBias.Torch.Models;

/// <summary>
/// The <c>config.json</c> that Hugging Face (<c>num_attention_heads</c>) and timm (<c>num_heads</c>, at the top or in
/// <c>model_args</c>) keep beside a checkpoint: the one place a checkpoint says its head count.
/// </summary>
internal static class VitConfigFile
{
    public const string FileName = "config.json";

    /// <summary>The head count the config.json beside <paramref name="checkpoint"/> states, or null when there is no
    /// such file or it states none.</summary>
    internal static long? NumHeads(string checkpoint)
    {
        string path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            long? Heads(JsonElement scope, string key) => !scope.TryGetProperty(key, out JsonElement value) ? null
                : value.TryGetInt64(out long heads) && heads > 0 ? heads
                : throw new InvalidDataException($"{path}: '{key}' is {value.GetRawText()}, not a positive integer");
            return Heads(root, "num_attention_heads") ?? Heads(root, "num_heads")
                ?? (root.TryGetProperty("model_args", out JsonElement args) && args.ValueKind == JsonValueKind.Object ? Heads(args, "num_heads") : null);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed JSON ({e.Message})", e);
        }
    }
}
