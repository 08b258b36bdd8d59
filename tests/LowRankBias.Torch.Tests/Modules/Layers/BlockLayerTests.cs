using LowRankBias.Torch.Modules;
using MathNet.Numerics;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Modules.Layers;

/// <summary>MlpBlock and TransformerBlock: the MLP against its formula, the block against its own children composed by hand.</summary>
public class BlockLayerTests
{
    private static double[] Affine(Linear layer, double[] x)
    {
        double[] w = layer.weight.detach().ToArray<double>(), b = layer.bias!.detach().ToArray<double>();
        int inputs = (int)layer.in_features;
        return Enumerable.Range(0, (int)layer.out_features).Select(o => b[o] + Enumerable.Range(0, inputs).Sum(i => w[o * inputs + i] * x[i])).ToArray();
    }

    [Fact]
    public void MlpBlockIsLinearGeluLinear()
    {
        using var scope = NewDisposeScope();
        using var mlp = new MlpBlock(3, 5, out_features: 2, dtype: ScalarType.Float64);
        Tensor x = Randn(1, 4, 3);
        double[] xs = x.ToArray<double>();
        double[] expected = Enumerable.Range(0, 4).SelectMany(r =>
        {
            double[] hidden = Affine((Linear)mlp.fc1, xs[(3 * r)..(3 * r + 3)]).Select(h => h * 0.5 * (1 + SpecialFunctions.Erf(h / Math.Sqrt(2)))).ToArray();
            return Affine((Linear)mlp.fc2, hidden);
        }).ToArray();
        AssertClose(expected, mlp.call(x), 1e-12);
        Assert.Equal(new[] { "fc1", "act", "fc2", "drop" }, mlp.named_children().Select(c => c.name));
    }

    [Fact]
    public void MlpBlockDropsOutInTrainingOnly()
    {
        using var scope = NewDisposeScope();
        using var mlp = new MlpBlock(4, 64, dropout: 0.5, activation: new ReLU(), dtype: ScalarType.Float64);
        Tensor x = Randn(2, 8, 4);
        mlp.eval();
        double[] deterministic = mlp.call(x).ToArray<double>();
        Assert.Equal(deterministic, mlp.call(x).ToArray<double>());
        mlp.train();
        Assert.NotEqual(deterministic, mlp.call(x).ToArray<double>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TransformerBlockIsPreNormResidualAttentionThenMlp(bool layerNorm)
    {
        using var scope = NewDisposeScope();
        using var block = new TransformerBlock(4, 2, 8, layer_norm: layerNorm, dtype: ScalarType.Float64);
        Assert.Equal(new[] { "ln_1", "attn", "drop", "ln_2", "mlp" }, block.named_children().Select(c => c.name));
        Assert.IsType(layerNorm ? typeof(LayerNorm) : typeof(Identity), block.ln_1);
        Tensor x = Randn(3, 2, 5, 4);
        Tensor h = x + block.attn.call(block.ln_1.call(x));
        Tensor expected = h + block.mlp.call(block.ln_2.call(h));
        AssertClose(expected.ToArray<double>(), block.call(x), 1e-14);

        Tensor mask = tensor(new[] { true, true, false, true, true });
        Tensor hm = x + ((MultiheadSelfAttention)block.attn).forward(block.ln_1.call(x), mask);
        AssertClose((hm + block.mlp.call(block.ln_2.call(hm))).ToArray<double>(), block.forward(x, mask), 1e-14);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void ForwardLastIsTheLastPositionOfTheFullForward(bool causal, bool layerNorm)
    {
        using var scope = NewDisposeScope();
        using var block = new TransformerBlock(4, 2, 8, is_causal: causal, layer_norm: layerNorm, dtype: ScalarType.Float64);
        Tensor x = Randn(7, 3, 5, 4);
        Tensor last = block.forward_last(x);
        Assert.Equal(new long[] { 3, 1, 4 }, last.shape);
        AssertClose(block.call(x).narrow(1, 4, 1).ToArray<double>(), last, 1e-14);
        GradCheck.Verify(input => block.forward_last(input), Randn(8, 2, 3, 4));
    }

    [Fact]
    public void TransformerBlockGradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var block = new TransformerBlock(4, 2, 6, is_causal: true, dtype: ScalarType.Float64);
        Tensor x = Randn(4, 1, 3, 4);
        GradCheck.Verify(input => block.call(input), x);
        ModuleGradCheck.Verify(block, () => block.call(x));
    }

    [Fact]
    public void BiasOptionsReachEveryLayer()
    {
        using var scope = NewDisposeScope();
        using var noBias = new TransformerBlock(4, 2, 8, bias: false);
        Assert.DoesNotContain(noBias.named_parameters(), p => p.name.EndsWith("bias"));
        using var mlpBiasOnly = new TransformerBlock(4, 2, 8, attention_bias: false);
        Assert.Equal(new[] { "ln_1.bias", "ln_2.bias", "mlp.fc1.bias", "mlp.fc2.bias" },
            mlpBiasOnly.named_parameters().Select(p => p.name).Where(n => n.EndsWith("bias")));
    }
}
