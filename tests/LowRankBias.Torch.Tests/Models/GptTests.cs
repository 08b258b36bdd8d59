using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Models;

public class GptTests
{
    private static readonly GPT.Config Tiny = new() { vocab_size = 11, block_size = 6, n_layer = 2, n_head = 2, n_embd = 8, mlp_dim = 16 };

    private static Tensor Tokens(int seed, int n, int length) =>
        tensor(Uniform(seed, 0, 11, n, length).ToArray<double>().Select(v => (long)v).ToArray(), [n, length]);

    [Fact]
    public void ForwardGivesNextTokenLogitsForEveryPosition()
    {
        using var scope = NewDisposeScope();
        using var gpt = new GPT(Tiny);
        Assert.Equal(new long[] { 3, 6, 11 }, gpt.call(Tokens(1, 3, 6)).shape);
        Assert.Equal(new long[] { 3, 2, 11 }, gpt.call(Tokens(2, 3, 2)).shape);
    }

    [Fact]
    public void ForwardIsTheDocumentedComposition()
    {
        using var scope = NewDisposeScope();
        using var gpt = new GPT(Tiny with { bias = true }, dtype: ScalarType.Float64);
        Tensor idx = Tokens(3, 2, 5);
        Tensor h = gpt.wte.call(idx) + gpt.wpe.call(arange(5));
        foreach (Module block in gpt.blocks) h = block.call(h);
        AssertClose(gpt.lm_head.call(gpt.ln_f.call(h)).ToArray<double>(), gpt.call(idx), 1e-13);
    }

    [Fact]
    public void LogitsAtPositionTIgnoreLaterTokens()
    {
        using var scope = NewDisposeScope();
        using var gpt = new GPT(Tiny, dtype: ScalarType.Float64);
        long[] first = [1, 4, 2, 9, 0, 7], second = [1, 4, 2, 3, 10, 5];
        double[] a = gpt.call(tensor(first, [1, 6])).ToArray<double>(), b = gpt.call(tensor(second, [1, 6])).ToArray<double>();
        Assert.Equal(a[..(3 * 11)], b[..(3 * 11)]);
        Assert.NotEqual(a[(3 * 11)..(4 * 11)], b[(3 * 11)..(4 * 11)]);
    }

    [Fact]
    public void TiedHeadSharesTheTokenEmbeddingAndIsCountedOnce()
    {
        using var scope = NewDisposeScope();
        using var tied = new GPT(Tiny);
        Assert.Same(((Embedding)tied.wte).weight, ((Linear)tied.lm_head).weight);
        Assert.DoesNotContain(tied.named_parameters(), p => p.name.StartsWith("lm_head"));
        Assert.Contains("lm_head.weight", tied.state_dict().Keys);
        using var untied = new GPT(Tiny with { tie_weights = false });
        Assert.NotSame(((Embedding)untied.wte).weight, ((Linear)untied.lm_head).weight);
        Assert.Equal(tied.parameters().Sum(p => p.numel()) + 11 * 8, untied.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void WeightsFollowTheGpt2Initialisation()
    {
        using var scope = NewDisposeScope();
        using var gpt = new GPT(new GPT.Config { vocab_size = 128, block_size = 64, n_layer = 2, n_head = 2, n_embd = 64, mlp_dim = 256, bias = true });
        double residual = 0.02 / Math.Sqrt(4);
        Init.SampleStats.Of(gpt.get_parameter("blocks.1.attn.o.weight").detach()).AssertMatches(0, residual * residual);
        Init.SampleStats.Of(gpt.get_parameter("blocks.0.mlp.fc2.weight").detach()).AssertMatches(0, residual * residual);
        Init.SampleStats.Of(gpt.get_parameter("blocks.0.mlp.fc1.weight").detach()).AssertMatches(0, 0.02 * 0.02);
        Init.SampleStats.Of(gpt.get_parameter("wpe.weight").detach()).AssertMatches(0, 0.02 * 0.02);
        Assert.Equal(0.0, gpt.get_parameter("blocks.0.attn.q.bias").abs().sum().item<float>());
    }

    [Fact]
    public void EveryLinearIsReachableByPathAndReplaceable()
    {
        using var scope = NewDisposeScope();
        using var gpt = new GPT(Tiny, dtype: ScalarType.Float64);
        string[] expected = Enumerable.Range(0, 2)
            .SelectMany(i => new[] { "attn.q", "attn.k", "attn.v", "attn.o", "mlp.fc1", "mlp.fc2" }.Select(l => $"blocks.{i}.{l}"))
            .Append("lm_head").ToArray();
        Assert.Equal(expected, ReplaceableLayers.PathsOf<Linear>(gpt));
        ReplaceableLayers.AssertEachReplacementChangesTheOutput(gpt, expected, Tokens(4, 2, 6));
    }

    [Fact]
    public void SequencesLongerThanTheBlockAreRejected()
    {
        using var scope = NewDisposeScope();
        using var gpt = new GPT(Tiny);
        Assert.Contains("sequence length 7 exceeds the block size 6", Assert.Throws<ArgumentException>(() => gpt.call(Tokens(5, 1, 7))).Message);
        Assert.Throws<ArgumentException>(() => gpt.call(Tokens(6, 1, 3).reshape(3)));
        Assert.Throws<ArgumentException>(() => new GPT(Tiny with { n_head = 3 }));
    }
}
