namespace LowRankBias.Lora;

/// <summary>Which biases train alongside the adapters (PEFT's <c>bias</c>).</summary>
public static class LoraBias
{
    /// <summary>No bias trains (the default).</summary>
    public const string None = "none";

    /// <summary>Every bias of the model trains.</summary>
    public const string All = "all";

    /// <summary>Only the biases of the layers that carry LoRA train.</summary>
    public const string LoraOnly = "lora_only";

    /// <summary>Throws unless <paramref name="bias"/> is none, all or lora_only.</summary>
    public static void Check(string bias)
    {
        if (bias is not (None or All or LoraOnly))
            throw new ArgumentException($"unknown bias '{bias}': expected \"{None}\", \"{All}\" or \"{LoraOnly}\"", nameof(bias));
    }
}
