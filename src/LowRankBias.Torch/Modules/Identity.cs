namespace LowRankBias.Torch.Modules;

/// <summary>Returns its input (PyTorch's <c>nn.Identity</c>): a placeholder where a layer is switched off (e.g. a
/// normalisation) that keeps the model's tree and names stable.</summary>
public sealed class Identity : Module
{
    /// <summary>The input itself, as a new handle: the caller may dispose it without disposing <paramref name="input"/>.</summary>
    public override Tensor forward(Tensor input) => input.alias();
}
