using System.Globalization;
using System.Text.Json;
using LowRankBias.Torch.IO;

namespace LowRankBias.Torch.Models;

/// <summary>
/// Where a checkpoint says its head count, which no tensor shape holds: the <c>num_heads</c> entry of a safetensors
/// file's metadata (as <see cref="VisionTransformer.save_pretrained"/> writes it), or the <c>config.json</c> that Hugging
/// Face (<c>num_attention_heads</c>) and timm (<c>num_heads</c>, at the top or in <c>model_args</c>) keep beside it.
/// </summary>
internal static class VitConfigFile
{
    public const string FileName = "config.json";

    /// <summary>The safetensors metadata key of the head count.</summary>
    public const string MetadataKey = "num_heads";

    /// <summary>The head count <paramref name="checkpoint"/>'s metadata or the config.json beside it states, or null
    /// when neither states one.</summary>
    internal static long? NumHeads(string checkpoint)
    {
        if (WeightFile.detect(checkpoint) == WeightFormat.SafeTensors
            && SafeTensors.load_metadata(checkpoint).TryGetValue(MetadataKey, out string? saved))
            return long.TryParse(saved, NumberStyles.None, CultureInfo.InvariantCulture, out long heads) && heads > 0 ? heads
                : throw new InvalidDataException($"{checkpoint}: metadata '{MetadataKey}' is '{saved}', not a positive integer");
        string path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            long? Heads(JsonElement scope, string key) => !scope.TryGetProperty(key, out JsonElement value) ? null
                : value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long heads) && heads > 0 ? heads
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
