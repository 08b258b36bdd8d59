using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.Tests.TestData;

namespace LowRankBias.Torch.Tests.Models;

public class MlpMixerTests
{
    private static readonly MlpMixer.Config Tiny = new()
    {
        image_size = 8, patch_size = 2, in_channels = 1, num_classes = 4, num_blocks = 2, hidden_dim = 6, tokens_mlp_dim = 5, channels_mlp_dim = 7,
    };

    [Fact]
    public void ForwardMapsImagesToClassLogits()
    {
        using var scope = NewDisposeScope();
        using var mixer = new MlpMixer(Tiny);
        Assert.Equal(new long[] { 3, 4 }, mixer.call(randn([3, 1, 8, 8])).shape);
    }

    [Fact]
    public void BlocksMixTokensThenChannels()
    {
        using var scope = NewDisposeScope();
        using var block = new MixerBlock(num_tokens: 4, hidden_dim: 3, tokens_mlp_dim: 5, channels_mlp_dim: 6, dtype: ScalarType.Float64);
        Tensor x = Randn(1, 2, 4, 3);
        // Token mixing acts on each channel's column of 4 token values; channel mixing on each token's row of 3.
        Tensor normed = block.ln_1.call(x);
        Tensor columns = normed.transpose(1, 2);
        Tensor mixed = block.mlp_tokens.call(columns).transpose(1, 2);
        Tensor h = x + mixed;
        Tensor expected = h + block.mlp_channels.call(block.ln_2.call(h));
        AssertClose(expected.ToArray<double>(), block.call(x), 1e-14);
        Assert.Equal(new long[] { 5, 4 }, block.get_parameter("mlp_tokens.fc1.weight").shape);
        Assert.Equal(new long[] { 6, 3 }, block.get_parameter("mlp_channels.fc1.weight").shape);
    }

    [Fact]
    public void ForwardIsTheDocumentedComposition()
    {
        using var scope = NewDisposeScope();
        using var mixer = new MlpMixer(Tiny, dtype: ScalarType.Float64);
        Tensor x = Randn(2, 2, 1, 8, 8);
        Tensor h = mixer.stem.call(x).flatten(2).transpose(1, 2);
        foreach (Module block in mixer.blocks) h = block.call(h);
        AssertClose(mixer.head.call(mixer.ln.call(h).mean(1)).ToArray<double>(), mixer.call(x), 1e-13);
        ReplaceableLayers.AssertEachReplacementChangesTheOutput(mixer, ReplaceableLayers.PathsOf<Linear>(mixer), x);
    }

    [Fact]
    public void BadImagesAreClearErrors()
    {
        using var scope = NewDisposeScope();
        using var mixer = new MlpMixer(Tiny);
        Assert.Throws<ArgumentException>(() => mixer.call(zeros([1, 1, 6, 6])));
        Assert.Throws<ArgumentException>(() => new MlpMixer(Tiny with { patch_size = 3 }));
    }
}
