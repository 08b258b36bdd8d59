using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// What every model's <c>from_pretrained</c> / <c>save_pretrained</c> shares: a checkpoint file's format is told from
/// its first bytes (<see cref="WeightFile.detect"/>), not its name; DataParallel's prefix is dropped; a file is written
/// as <c>torch.save</c> when its name says so; and a state dict that does not fit the model built for it is reported
/// as the file's fault (<see cref="InvalidDataException"/>), with the model freed.
/// </summary>
internal static class PretrainedFile
{
    /// <summary>The tensors of a safetensors or <c>torch.save</c> file, without a DataParallel prefix.</summary>
    public static IReadOnlyDictionary<string, Tensor> Load(string path) => WithoutDataParallelPrefix(
        WeightFile.detect(path) == WeightFormat.TorchSave ? PyTorchFile.load_state_dict(path) : SafeTensors.load_file(path));

    /// <summary>A model wrapped in <c>torch.nn.DataParallel</c> (or DistributedDataParallel) saves every key under
    /// <c>module.</c>; the weights are the plain model's.</summary>
    public static IReadOnlyDictionary<string, Tensor> WithoutDataParallelPrefix(IReadOnlyDictionary<string, Tensor> state)
    {
        const string prefix = "module.";
        return state.Count > 0 && state.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal))
            ? state.ToDictionary(p => p.Key[prefix.Length..], p => p.Value, StringComparer.Ordinal)
            : state;
    }

    /// <summary>Writes <paramref name="state"/> atomically: a <c>torch.save</c> file (<see cref="PyTorchFile.save"/>)
    /// when <paramref name="path"/> ends in .pt, .pth or .bin, safetensors (with <paramref name="metadata"/>) otherwise.</summary>
    public static void Save(IReadOnlyDictionary<string, Tensor> state, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (Path.GetExtension(path).ToLowerInvariant() is ".pt" or ".pth" or ".bin") PyTorchFile.save(state, path);
        else SafeTensors.save_file(state, path, metadata);
    }

    /// <summary>Loads <paramref name="state"/> into <paramref name="model"/> (strict); a missing key or a wrong shape
    /// disposes the model and becomes an <see cref="InvalidDataException"/> that names <paramref name="source"/>.</summary>
    public static T LoadInto<T>(T model, IReadOnlyDictionary<string, Tensor> state, string source) where T : Module
    {
        try
        {
            model.load_state_dict(state);
            return model;
        }
        catch (ArgumentException e)
        {
            model.Dispose();
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }
}
