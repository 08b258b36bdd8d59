using System.Text.Json;
using System.Text.Json.Serialization;
using LowRankBias.Torch.Amp;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Optim;

namespace LowRankBias.Torch.Training;

/// <summary>Reads and writes a <see cref="Checkpoint"/> as one safetensors file (layout in the remarks of
/// <see cref="Checkpoint"/>).</summary>
internal static class CheckpointFile
{
    /// <summary>The <c>__metadata__</c> entry holding the non-tensor state as JSON.</summary>
    public const string MetadataKey = "lowrankbias.checkpoint";

    // Version 2 added a CRC-32C per tensor; version 1 files (without) are still read.
    private const int FormatVersion = 2, UncheckedFormatVersion = 1;
    private const string ModelPrefix = "model.", OptimizerPrefix = "optim.", ExtraPrefix = "extra.", RngName = "rng";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        IncludeFields = true, // the betas of AdamWOptions are a value tuple
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
    };

    public static void Write(Checkpoint checkpoint, string path)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach ((string key, Tensor t) in checkpoint.Model) tensors.Add(ModelPrefix + key, t);
        foreach ((string key, Tensor t) in checkpoint.Extra) tensors.Add(ExtraPrefix + key, t);
        if (checkpoint.RngState is { } rng) tensors.Add(RngName, rng);
        OptimizerHeader? optimizer = null;
        if (checkpoint.Optimizer is { } state)
        {
            optimizer = new OptimizerHeader
            {
                ParamGroups = state.param_groups.Select(g => new GroupHeader
                {
                    Type = $"{g.options.GetType().FullName}, {g.options.GetType().Assembly.GetName().Name}",
                    Options = JsonSerializer.SerializeToElement(g.options, g.options.GetType(), s_json),
                    Params = g.@params,
                }).ToList(),
                State = state.state.Select(p => new ParameterHeader { Index = p.Key, Step = p.Value.step, Tensors = [.. p.Value.tensors.Keys] }).ToList(),
            };
            foreach ((int index, ParameterState s) in state.state)
                foreach ((string name, Tensor t) in s.tensors) tensors.Add($"{OptimizerPrefix}{index}.{name}", t);
        }
        var header = new Header
        {
            Format = FormatVersion,
            Crc32c = tensors.ToDictionary(p => p.Key, p => TensorChecksum.Crc32C(p.Value)),
            Step = checkpoint.Step,
            Epoch = checkpoint.Epoch,
            WallTime = checkpoint.WallTime,
            Optimizer = optimizer,
            Scheduler = checkpoint.Scheduler,
            Scaler = checkpoint.Scaler,
            Loaders = checkpoint.Loaders,
            Generators = checkpoint.Generators,
            Metadata = checkpoint.Metadata,
        };
        SafeTensors.save_file(tensors, path, new Dictionary<string, string> { [MetadataKey] = JsonSerializer.Serialize(header, s_json) });
    }

    public static Checkpoint Read(string path)
    {
        InvalidDataException Bad(string problem, Exception? inner = null) => new($"checkpoint {path}: {problem}", inner);

        Dictionary<string, string> metadata = SafeTensors.load_metadata(path);
        if (!metadata.TryGetValue(MetadataKey, out string? json))
            throw Bad($"a safetensors file without the '{MetadataKey}' metadata, so not a training checkpoint");
        Header header;
        try { header = JsonSerializer.Deserialize<Header>(json, s_json) ?? throw Bad("the checkpoint metadata is null"); }
        catch (JsonException e) { throw Bad($"the checkpoint metadata is malformed ({e.Message})", e); }
        if (header.Format is not (FormatVersion or UncheckedFormatVersion))
            throw Bad($"format version {header.Format}, this library reads versions {UncheckedFormatVersion} and {FormatVersion}");

        using var scope = torch.NewDisposeScope(); // frees every loaded tensor the checkpoint does not adopt
        Dictionary<string, Tensor> tensors = SafeTensors.load_file(path);
        if (header.Format == FormatVersion) VerifyChecksums(header.Crc32c, tensors, Bad);
        var checkpoint = new Checkpoint { Path = path, Step = header.Step, Epoch = header.Epoch, WallTime = header.WallTime,
            Scheduler = header.Scheduler, Scaler = header.Scaler };
        try
        {
            foreach ((string name, Tensor t) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (name.StartsWith(ModelPrefix, StringComparison.Ordinal)) checkpoint.Model.Add(name[ModelPrefix.Length..], t.DetachFromDisposeScope());
                else if (name.StartsWith(ExtraPrefix, StringComparison.Ordinal)) checkpoint.Extra.Add(name[ExtraPrefix.Length..], t.DetachFromDisposeScope());
                else if (name == RngName) checkpoint.RngState = t.DetachFromDisposeScope();
                else if (!name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) throw Bad($"unexpected tensor '{name}'");
            }
            if (header.Optimizer is { } optimizer) checkpoint.Optimizer = ReadOptimizer(optimizer, tensors, Bad);
            else if (tensors.Keys.Any(k => k.StartsWith(OptimizerPrefix, StringComparison.Ordinal))) throw Bad("optimizer tensors without optimizer metadata");
            foreach ((string k, DataLoaderState v) in header.Loaders) checkpoint.Loaders.Add(k, v);
            foreach ((string k, ulong v) in header.Generators) checkpoint.Generators.Add(k, v);
            foreach ((string k, string v) in header.Metadata) checkpoint.Metadata.Add(k, v);
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    // Every tensor must carry its checksum and match it: a flipped bit anywhere is found before any state is built.
    private static void VerifyChecksums(Dictionary<string, uint>? checksums, Dictionary<string, Tensor> tensors, Func<string, Exception?, InvalidDataException> bad)
    {
        if (checksums is null) throw bad($"format version {FormatVersion} without the per-tensor checksums (crc32c)", null);
        foreach (string name in checksums.Keys.Where(k => !tensors.ContainsKey(k)))
            throw bad($"the checksum list names tensor '{name}', which the file lacks", null);
        foreach ((string name, Tensor t) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!checksums.TryGetValue(name, out uint expected)) throw bad($"tensor '{name}' has no checksum", null);
            uint actual = TensorChecksum.Crc32C(t);
            if (actual != expected)
                throw bad($"tensor '{name}' is damaged: its bytes have checksum (CRC-32C) {actual:x8}, the file recorded {expected:x8}", null);
        }
    }

    private static OptimizerStateDict ReadOptimizer(OptimizerHeader header, Dictionary<string, Tensor> tensors, Func<string, Exception?, InvalidDataException> bad)
    {
        var result = new OptimizerStateDict();
        try
        {
            foreach (GroupHeader group in header.ParamGroups)
                result.param_groups.Add((ReadOptions(group, bad), group.Params));
            int used = 0;
            foreach (ParameterHeader p in header.State)
            {
                var state = new ParameterState { step = p.Step };
                if (!result.state.TryAdd(p.Index, state)) throw bad($"optimizer state for parameter {p.Index} appears twice", null);
                foreach (string name in p.Tensors)
                {
                    string key = $"{OptimizerPrefix}{p.Index}.{name}";
                    if (!tensors.TryGetValue(key, out Tensor? t)) throw bad($"the optimizer tensor '{key}' is missing", null);
                    state.tensors.Add(name, t.DetachFromDisposeScope());
                    used++;
                }
            }
            int stored = tensors.Keys.Count(k => k.StartsWith(OptimizerPrefix, StringComparison.Ordinal));
            if (used != stored) throw bad($"{stored - used} optimizer tensor(s) belong to no parameter state", null);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    // The options record is rebuilt as the type it was saved as; only OptimizerOptions types are accepted.
    private static OptimizerOptions ReadOptions(GroupHeader group, Func<string, Exception?, InvalidDataException> bad)
    {
        Type? type = Type.GetType(group.Type, throwOnError: false);
        if (type is null || type.IsAbstract || !type.IsSubclassOf(typeof(OptimizerOptions)))
            throw bad($"unknown optimizer options type '{group.Type}'", null);
        try { return (OptimizerOptions?)group.Options.Deserialize(type, s_json) ?? throw bad($"null options for '{group.Type}'", null); }
        catch (JsonException e) { throw bad($"malformed options for '{group.Type}' ({e.Message})", e); }
    }

    private sealed class Header
    {
        public int Format { get; init; }
        public Dictionary<string, uint>? Crc32c { get; init; }
        public long Step { get; init; }
        public long Epoch { get; init; }
        public double WallTime { get; init; }
        public OptimizerHeader? Optimizer { get; init; }
        public SchedulerState? Scheduler { get; init; }
        public GradScalerState? Scaler { get; init; }
        public Dictionary<string, DataLoaderState> Loaders { get; init; } = [];
        public Dictionary<string, ulong> Generators { get; init; } = [];
        public Dictionary<string, string> Metadata { get; init; } = [];
    }

    private sealed class OptimizerHeader
    {
        public List<GroupHeader> ParamGroups { get; init; } = [];
        public List<ParameterHeader> State { get; init; } = [];
    }

    private sealed class GroupHeader
    {
        public string Type { get; init; } = "";
        public JsonElement Options { get; init; }
        public int[] Params { get; init; } = [];
    }

    private sealed class ParameterHeader
    {
        public int Index { get; init; }
        public long Step { get; init; }
        public string[] Tensors { get; init; } = [];
    }
}
