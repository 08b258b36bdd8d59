using LowRankBias.Lora;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>LoRA on the papers' ViT (branch models), float64: every linear layer and the patch convolution adapted.</summary>
public sealed partial class VisionTransformerLoraTests
{
    private static VisionTransformer TinyVit() => new(new VisionTransformer.Config
    {
        image_size = 8, patch_size = 4, in_channels = 2, num_classes = 3, num_layers = 2, num_heads = 2, hidden_dim = 8, mlp_dim = 12,
    }, dtype: F64);

    private static void RandomizeAll(LoraModel lora)
    {
        int seed = 500;
        foreach ((_, LoraLayer layer) in lora.lora_layers()) Randomize(layer, "default", seed += 10);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void MergedAndUnmergedForwardAgree(int heads)
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraModel(TinyVit(), new LoraConfig
        {
            r = 2, lora_alpha = 8, num_heads = heads, modules_to_save = ["head"],
            target_modules = heads == 1 ? new[] { "conv_proj", "q", "k", "v", "o", "fc1", "fc2" } : "all-linear",
        });
        string[] wrapped = lora.lora_layers().Select(l => l.path).ToArray();
        Assert.Equal(heads == 1 ? 13 : 12, wrapped.Length);                  // 2 blocks × (q, k, v, o, fc1, fc2) (+ conv_proj)
        Assert.Contains("blocks.1.attn.q", wrapped);
        Assert.DoesNotContain("head", wrapped);
        lora.eval();
        RandomizeAll(lora);
        Tensor images = TestData.Randn(600, 3, 2, 8, 8);
        Tensor unmerged = lora.call(images);

        lora.merge();
        AssertRelative(unmerged, lora.call(images), 1e-10, "merged ViT");
        Module plain = lora.merge_and_unload();
        Assert.DoesNotContain(plain.modules(), m => m is LoraLayer);
        AssertRelative(unmerged, plain.call(images), 1e-10, "merged and unloaded ViT");
        plain.Dispose();
    }
}
