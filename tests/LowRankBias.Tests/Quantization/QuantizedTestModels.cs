using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;
using LowRankBias.Torch.Tests;

namespace LowRankBias.Tests.Quantization;

/// <summary>A float32 network fc1 (128 → 64) → tanh → head (64 → 4) with seeded normal weights of scale 0.1, whose
/// rows NF4's block of 64 divides.</summary>
internal sealed class QuantMlp : Module
{
    public const long In = 128, Hidden = 64, Out = 4;

    public Module fc1;
    public Module head;

    public QuantMlp(int seed)
    {
        fc1 = Seeded(In, Hidden, seed);
        head = Seeded(Hidden, Out, seed + 2);
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor h = fc1.call(input);
        using Tensor a = h.tanh();
        return head.call(a);
    }

    /// <summary>Seeded float32 inputs [batch, 128].</summary>
    public static Tensor Input(int seed, long batch)
    {
        using Tensor x = TestData.Randn(seed, batch, In);
        return x.to(ScalarType.Float32);
    }

    /// <summary>The largest error one NF4 rounding can make on a scaled weight: half the widest gap between levels.</summary>
    public static double HalfWidestGap => Enumerable.Range(0, 15).Max(k => NormalFloat4.Levels[k + 1] - NormalFloat4.Levels[k]) / 2.0;

    private static Linear Seeded(long inFeatures, long outFeatures, int seed)
    {
        var linear = new Linear(inFeatures, outFeatures);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        linear.weight.copy_(TestData.Randn(seed, outFeatures, inFeatures) * 0.1);
        linear.bias!.copy_(TestData.Randn(seed + 1, outFeatures) * 0.1);
        return linear;
    }
}
