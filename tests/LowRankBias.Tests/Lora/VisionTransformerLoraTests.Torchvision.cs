using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

// A PEFT adapter trained on torchvision's ViT names torchvision's modules; it loads onto the model read from the
// torchvision checkpoint through the same name map.
public sealed partial class VisionTransformerLoraTests
{
    [Fact]
    public void PeftAdapterKeyedByTorchvisionModulePathsLoadsOntoTheTorchvisionModel()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        // What PEFT writes for torchvision's VisionTransformer with target_modules ["mlp.0", "out_proj"], r 2, α 4 and
        // modules_to_save ["heads.head"]; the fixture's blocks have width 32 and MLP 64, and 10 classes.
        var file = new Dictionary<string, Tensor>();
        int seed = 40;
        Tensor Draw(params long[] shape) => TestData.Randn(seed++, shape).to(ScalarType.Float32);
        for (int i = 0; i < 2; i++)
        {
            string block = $"base_model.model.encoder.layers.encoder_layer_{i}";
            file[$"{block}.mlp.0.lora_A.weight"] = Draw(2, 32);
            file[$"{block}.mlp.0.lora_B.weight"] = Draw(64, 2);
            file[$"{block}.self_attention.out_proj.lora_A.weight"] = Draw(2, 32);
            file[$"{block}.self_attention.out_proj.lora_B.weight"] = Draw(32, 2);
        }
        file["base_model.model.heads.head.weight"] = Draw(10, 32);
        file["base_model.model.heads.head.bias"] = Draw(10);
        SafeTensors.save_file(file, dir.File(LoraModel.WeightsFileName), new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(dir.File(LoraConfig.ConfigFileName), """
            {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["mlp.0", "out_proj"], "modules_to_save": ["heads.head"],
             "bias": "none", "lora_dropout": 0.0, "init_lora_weights": true}
            """);

        string checkpoint = Path.Combine(AppContext.BaseDirectory, "fixtures", "pretrained", "torchvision_vit.pt");
        using VisionTransformer vit = VisionTransformer.from_pretrained(checkpoint, num_heads: 2);
        var before = vit.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var lora = LoraModel.from_pretrained(vit, dir.Path);
        using var merged = lora.merge_and_unload();

        var after = merged.state_dict();
        for (int i = 0; i < 2; i++)
        {
            string block = $"base_model.model.encoder.layers.encoder_layer_{i}";
            foreach ((string ours, string theirs) in new[] { ($"blocks.{i}.mlp.fc1", $"{block}.mlp.0"), ($"blocks.{i}.attn.o", $"{block}.self_attention.out_proj") })
            {
                // W + (α / r)·B·A, from the file's factors.
                Tensor expected = before[ours + ".weight"].to(F64) + 2 * file[theirs + ".lora_B.weight"].to(F64).matmul(file[theirs + ".lora_A.weight"].to(F64));
                AssertRelative(expected, after[ours + ".weight"], 1e-6, ours);
            }
            Assert.Equal(ToDoubles(before[$"blocks.{i}.mlp.fc2.weight"]), ToDoubles(after[$"blocks.{i}.mlp.fc2.weight"]));
        }
        Assert.Equal(ToDoubles(file["base_model.model.heads.head.weight"]), ToDoubles(after["head.weight"]));
        Assert.Equal(ToDoubles(file["base_model.model.heads.head.bias"]), ToDoubles(after["head.bias"]));
    }
}
