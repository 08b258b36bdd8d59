using LowRankBias.Spectral;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

public class WeightPairingTests
{
    [Fact]
    public void CentreSliceTakesTheMiddleKernelPosition()
    {
        using var scope = NewDisposeScope();
        Tensor conv = arange(0, 4 * 3 * 3 * 3, dtype: ScalarType.Float64).reshape(4, 3, 3, 3);
        Assert.Equal(conv.select(2, 1).select(2, 1).ToArray<double>(), WeightMatrices.CentreSlice(conv).contiguous().ToArray<double>());
        Tensor even = arange(0, 2 * 2 * 4 * 2, dtype: ScalarType.Float64).reshape(2, 2, 4, 2);
        Assert.Equal(even.select(2, 2).select(2, 1).ToArray<double>(), WeightMatrices.CentreSlice(even).contiguous().ToArray<double>());
        Assert.Throws<ArgumentException>(() => WeightMatrices.CentreSlice(ones([3, 3])));
        Assert.Equal(new long[] { 4, 27 }, WeightMatrices.AsMatrix(conv).shape);
    }

    [Fact]
    public void AttentionWeightsSplitIntoHeadsAndPairUp()
    {
        using var scope = NewDisposeScope();
        const int heads = 3, dHead = 2, dModel = 5;
        Tensor q = randn([heads * dHead, dModel]), k = randn([heads * dHead, dModel]);
        Tensor v = randn([heads * dHead, dModel]), o = randn([dModel, heads * dHead]);
        (Tensor first, Tensor second) = AttentionHeads.QueryKey(q, k, heads);
        (Tensor vFirst, Tensor oSecond) = AttentionHeads.ValueOutput(v, o, heads);
        Assert.Equal(new long[] { heads, dHead, dModel }, first.shape);
        Assert.Equal(new long[] { heads, dModel, dHead }, second.shape);
        for (int h = 0; h < heads; h++)
        {
            Assert.Equal(k.narrow(0, h * dHead, dHead).ToArray<float>(), first[h].contiguous().ToArray<float>());
            Assert.Equal(q.narrow(0, h * dHead, dHead).t().contiguous().ToArray<float>(), second[h].contiguous().ToArray<float>());
            Assert.Equal(v.narrow(0, h * dHead, dHead).ToArray<float>(), vFirst[h].contiguous().ToArray<float>());
            Assert.Equal(o.narrow(1, h * dHead, dHead).contiguous().ToArray<float>(), oSecond[h].contiguous().ToArray<float>());
        }
        // the per-head chains are consecutive, so they can be aligned head by head
        Assert.InRange(LayerAlignment.Consecutive(vFirst, oSecond).Score, 0, 1);

        Tensor fused = randn([3 * heads * dHead, dModel]);
        (Tensor fq, Tensor fk, Tensor fv) = AttentionHeads.SplitFused(fused);
        Assert.Equal(fused.narrow(0, heads * dHead, heads * dHead).ToArray<float>(), fk.contiguous().ToArray<float>());
        Assert.Equal(fq.shape, fv.shape);

        Assert.Throws<ArgumentException>(() => AttentionHeads.SplitOutputs(randn([7, 5]), heads));
        Assert.Throws<ArgumentException>(() => AttentionHeads.SplitInputs(randn([5]), heads));
    }
}
