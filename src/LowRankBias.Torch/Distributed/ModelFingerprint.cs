using System.Security.Cryptography;
using System.Text;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Distributed;

/// <summary>A short digest of a model's architecture, for ranks to check at rendezvous that they built the same model.</summary>
public static class ModelFingerprint
{
    /// <summary>The model's type name and a digest of its parameters' names, shapes and dtypes (not their values).</summary>
    public static string Of(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string layout = string.Join(";", model.named_parameters().Select(p => $"{p.name}:{string.Join("x", p.parameter.shape)}:{p.parameter.dtype}"));
        return $"{model.GetType().Name} {Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(layout)))[..12]}";
    }
}
