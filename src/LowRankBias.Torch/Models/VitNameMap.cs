using System.Text.RegularExpressions;

namespace LowRankBias.Torch.Models;

/// <summary>
/// One parameter of our ViT and where a checkpoint layout keeps it: under <see cref="Theirs"/> whole, or, for the
/// fused query/key/value projections of torchvision and timm, as the <see cref="Part"/>-th third of its rows.
/// </summary>
internal sealed record VitName(string Ours, string Theirs, int Part = -1);

/// <summary>The parameter names of each <see cref="VitLayout"/>, following torchvision's vision_transformer.py, timm's
/// vision_transformer.py and Hugging Face's modeling_vit.py (tests/fixtures/pretrained/make_vit_fixtures.py checks them).</summary>
internal static partial class VitNameMap
{
    internal static IReadOnlyList<VitName> For(VitLayout layout, long numLayers)
    {
        var names = new List<VitName>();
        void Pair(string ours, string theirs) { names.Add(new(ours + ".weight", theirs + ".weight")); names.Add(new(ours + ".bias", theirs + ".bias")); }
        void Fused(string block, string theirs)
        {
            string[] parts = ["q", "k", "v"];
            for (int i = 0; i < 3; i++)
            {
                names.Add(new($"{block}.attn.{parts[i]}.weight", theirs + (layout == VitLayout.Torchvision ? "in_proj_weight" : "qkv.weight"), i));
                names.Add(new($"{block}.attn.{parts[i]}.bias", theirs + (layout == VitLayout.Torchvision ? "in_proj_bias" : "qkv.bias"), i));
            }
        }

        (string cls, string pos, string patch, string norm, string head) = layout switch
        {
            VitLayout.Native => ("class_token", "pos_embedding", "conv_proj", "ln", "head"),
            VitLayout.Torchvision => ("class_token", "encoder.pos_embedding", "conv_proj", "encoder.ln", "heads.head"),
            VitLayout.Timm => ("cls_token", "pos_embed", "patch_embed.proj", "norm", "head"),
            VitLayout.HuggingFace => ("vit.embeddings.cls_token", "vit.embeddings.position_embeddings", "vit.embeddings.patch_embeddings.projection", "vit.layernorm", "classifier"),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, null),
        };
        names.Add(new("class_token", cls));
        names.Add(new("pos_embedding", pos));
        Pair("conv_proj", patch);
        for (long i = 0; i < numLayers; i++)
        {
            string ours = $"blocks.{i}";
            switch (layout)
            {
                case VitLayout.Native:
                    foreach (string m in new[] { "ln_1", "attn.q", "attn.k", "attn.v", "attn.o", "ln_2", "mlp.fc1", "mlp.fc2" }) Pair($"{ours}.{m}", $"{ours}.{m}");
                    break;
                case VitLayout.Torchvision:
                    string tv = $"encoder.layers.encoder_layer_{i}";
                    Pair($"{ours}.ln_1", $"{tv}.ln_1");
                    Fused(ours, $"{tv}.self_attention.");
                    Pair($"{ours}.attn.o", $"{tv}.self_attention.out_proj");
                    Pair($"{ours}.ln_2", $"{tv}.ln_2");
                    Pair($"{ours}.mlp.fc1", $"{tv}.mlp.0");
                    Pair($"{ours}.mlp.fc2", $"{tv}.mlp.3");
                    break;
                case VitLayout.Timm:
                    string timm = $"blocks.{i}";
                    Pair($"{ours}.ln_1", $"{timm}.norm1");
                    Fused(ours, $"{timm}.attn.");
                    Pair($"{ours}.attn.o", $"{timm}.attn.proj");
                    Pair($"{ours}.ln_2", $"{timm}.norm2");
                    Pair($"{ours}.mlp.fc1", $"{timm}.mlp.fc1");
                    Pair($"{ours}.mlp.fc2", $"{timm}.mlp.fc2");
                    break;
                case VitLayout.HuggingFace:
                    string hf = $"vit.encoder.layer.{i}";
                    Pair($"{ours}.ln_1", $"{hf}.layernorm_before");
                    Pair($"{ours}.attn.q", $"{hf}.attention.attention.query");
                    Pair($"{ours}.attn.k", $"{hf}.attention.attention.key");
                    Pair($"{ours}.attn.v", $"{hf}.attention.attention.value");
                    Pair($"{ours}.attn.o", $"{hf}.attention.output.dense");
                    Pair($"{ours}.ln_2", $"{hf}.layernorm_after");
                    Pair($"{ours}.mlp.fc1", $"{hf}.intermediate.dense");
                    Pair($"{ours}.mlp.fc2", $"{hf}.output.dense");
                    break;
            }
        }
        Pair("ln", norm);
        Pair("head", head);
        return names;
    }

    /// <summary>The layout whose names <paramref name="keys"/> use, told apart by names only one layout has.</summary>
    internal static VitLayout Detect(IReadOnlyCollection<string> keys, string source)
    {
        if (keys.Any(k => k.StartsWith("encoder.layers.encoder_layer_", StringComparison.Ordinal))) return VitLayout.Torchvision;
        if (keys.Any(k => k.StartsWith("vit.encoder.layer.", StringComparison.Ordinal) || k.StartsWith("vit.embeddings.", StringComparison.Ordinal))) return VitLayout.HuggingFace;
        if (keys.Contains("cls_token") || keys.Any(k => k.EndsWith(".attn.qkv.weight", StringComparison.Ordinal))) return VitLayout.Timm;
        if (keys.Contains("class_token") && keys.Contains("conv_proj.weight")) return VitLayout.Native;
        throw new InvalidDataException($"{source}: the names match no known Vision Transformer layout (torchvision, timm, Hugging Face or this library's); " +
            $"first keys: [{string.Join(", ", keys.Take(8))}]");
    }

    /// <summary>Number of blocks: one more than the highest block index the keys name.</summary>
    internal static long CountLayers(VitLayout layout, IEnumerable<string> keys)
    {
        Regex block = layout switch
        {
            VitLayout.Torchvision => TorchvisionBlock(),
            VitLayout.HuggingFace => HuggingFaceBlock(),
            _ => NativeOrTimmBlock(),
        };
        return keys.Select(k => block.Match(k)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].ValueSpan) + 1).DefaultIfEmpty(0).Max();
    }

    /// <summary>torchvision checkpoints from before 0.13 name the MLP's layers linear_1/linear_2 (torchvision renames them the same way on load).</summary>
    internal static string Canonical(VitLayout layout, string key) => layout == VitLayout.Torchvision
        ? key.Replace(".mlp.linear_1.", ".mlp.0.", StringComparison.Ordinal).Replace(".mlp.linear_2.", ".mlp.3.", StringComparison.Ordinal)
        : key;

    [GeneratedRegex(@"^encoder\.layers\.encoder_layer_(\d+)\.")] private static partial Regex TorchvisionBlock();
    [GeneratedRegex(@"^vit\.encoder\.layer\.(\d+)\.")] private static partial Regex HuggingFaceBlock();
    [GeneratedRegex(@"^blocks\.(\d+)\.")] private static partial Regex NativeOrTimmBlock();
}
