using LowRankBias.Lora;
using LowRankBias.Tests.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Tests.Lte;

/// <summary>A float64 two-layer network, fc1 (6 → 8) → tanh → head (8 → 3), identical for equal seeds.</summary>
internal sealed class Mlp : Module
{
    public const long In = 6, Hidden = 8, Out = 3;

    public Module fc1;
    public Module head;

    public Mlp(int seed)
    {
        fc1 = LoraTestKit.Linear64(In, Hidden, seed);
        head = LoraTestKit.Linear64(Hidden, Out, seed + 2);
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor h = fc1.call(input);
        using Tensor a = h.tanh();
        return head.call(a);
    }
}

/// <summary>Data and helpers shared by the LTE tests.</summary>
internal static class LteTestKit
{
    /// <summary>Mean squared error, the tests' loss.</summary>
    public static Tensor Mse(Tensor output, Tensor target) => F.mse_loss(output, target);

    /// <summary>Seeded float64 inputs [batch, 6] and targets [batch, 3] for step <paramref name="step"/>.</summary>
    public static (Tensor x, Tensor y) Batch(int step, long batch) =>
        (TestData.Randn(1000 + step, batch, Mlp.In), TestData.Randn(2000 + step, batch, Mlp.Out));

    /// <summary>Head <paramref name="n"/> of a stacked tensor as a new tensor.</summary>
    public static Tensor Head(Tensor stacked, int n) => stacked.select(0, n).clone();

    /// <summary>The LoRA layer at <paramref name="path"/> of an LTE model.</summary>
    public static MultiHeadLoraLinear LoraAt(LowRankBias.Lte.Lte lte, string path) => (MultiHeadLoraLinear)lte.lora_layers().Single(l => l.path == path).layer;

    /// <summary>The weight of the linear layer at <paramref name="path"/>, seen through any LoRA wrapper.</summary>
    public static Linear BaseLinear(Module model, string path) =>
        model.get_submodule(path) is LoraLayer lora ? (Linear)lora.base_layer : (Linear)model.get_submodule(path);
}
