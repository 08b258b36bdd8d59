using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Models;

/// <summary>
/// One MLP-Mixer block on N×T×C token tables: token mixing h = x + MLPᵀ(ln_1(x)ᵀ), an MLP applied across the T
/// tokens of each channel, then channel mixing y = h + MLP(ln_2(h)) across the C channels of each token.
/// </summary>
public sealed class MixerBlock : Module
{
    /// <summary>Creates the block for <paramref name="num_tokens"/> tokens of width <paramref name="hidden_dim"/>.</summary>
    public MixerBlock(long num_tokens, long hidden_dim, long tokens_mlp_dim, long channels_mlp_dim, double dropout = 0.0,
        Device? device = null, ScalarType? dtype = null)
    {
        ln_1 = new LayerNorm(hidden_dim, eps: 1e-6, device: device, dtype: dtype);
        mlp_tokens = new MlpBlock(num_tokens, tokens_mlp_dim, dropout: dropout, device: device, dtype: dtype);
        ln_2 = new LayerNorm(hidden_dim, eps: 1e-6, device: device, dtype: dtype);
        mlp_channels = new MlpBlock(hidden_dim, channels_mlp_dim, dropout: dropout, device: device, dtype: dtype);
    }

    /// <summary>Norm before token mixing.</summary>
    public Module ln_1 { get; }

    /// <summary>Token-mixing MLP, T → tokens_mlp_dim → T.</summary>
    public Module mlp_tokens { get; }

    /// <summary>Norm before channel mixing.</summary>
    public Module ln_2 { get; }

    /// <summary>Channel-mixing MLP, C → channels_mlp_dim → C.</summary>
    public Module mlp_channels { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        Tensor mixedTokens = mlp_tokens.call(ln_1.call(input).transpose(1, 2)).transpose(1, 2);
        Tensor h = input + mixedTokens;
        Tensor output = h + mlp_channels.call(ln_2.call(h));
        return output.MoveToOuterDisposeScope();
    }
}
