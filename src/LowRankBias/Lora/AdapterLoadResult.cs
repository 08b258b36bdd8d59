namespace LowRankBias.Lora;

/// <summary>What loading an adapter file found: keys the model expected but the file lacks, and keys the file
/// holds that the model does not use (both in the file's naming, <c>base_model.model.&lt;path&gt;…</c>).</summary>
public sealed record AdapterLoadResult(IReadOnlyList<string> missing_keys, IReadOnlyList<string> unexpected_keys)
{
    /// <summary>True when every expected key was found and none was left over.</summary>
    public bool is_complete => missing_keys.Count == 0 && unexpected_keys.Count == 0;
}
