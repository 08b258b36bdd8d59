using System.Text.Json.Nodes;
using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tests.Lora;

/// <summary>DoRA adapters in PEFT's files: the adapter make_dora.py writes with PEFT's key names loads and reproduces the
/// reference outputs, and what we save has the same keys, shapes and config flag.</summary>
public sealed class DoraFileTests
{
    private static readonly string PeftAdapter = Path.Combine(DoraFixture.Directory, "peft_adapter");

    [Fact]
    public void A_peft_dora_adapter_loads_and_gives_the_reference_outputs()
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using var lora = LoraModel.from_pretrained(fixture.Model(), PeftAdapter);
        Assert.True(lora.peft_config["default"].use_dora);
        foreach (string name in new[] { "fc", "conv", "emb" })
            LoraTestKit.AssertRelative(fixture[$"{name}.output"], lora.model.get_submodule(name).call(fixture[$"{name}.input"]), 1e-9, name);
    }

    [Fact]
    public void Merge_and_unload_leaves_plain_layers_with_the_reference_merged_weights()
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using var lora = LoraModel.from_pretrained(fixture.Model(), PeftAdapter);
        using Module plain = lora.merge_and_unload();
        foreach (string name in new[] { "fc", "conv", "emb" })
        {
            Module layer = plain.get_submodule(name);
            Assert.IsNotType<LoraLayer>(layer, exactMatch: false);
            LoraTestKit.AssertRelative(fixture[$"{name}.merged"], layer.get_parameter("weight"), 1e-9, name);
        }
    }

    [Fact]
    public void Our_dora_file_has_peft_s_keys_and_shapes_and_loads_back()
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using var temp = new TempDirectory();
        using (var lora = LoraModel.from_pretrained(fixture.Model(), PeftAdapter)) lora.save_pretrained(temp.Path);

        Dictionary<string, Tensor> theirs = SafeTensors.load_file(Path.Combine(PeftAdapter, LoraModel.WeightsFileName));
        Dictionary<string, Tensor> ours = SafeTensors.load_file(temp.File(LoraModel.WeightsFileName));
        Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
        foreach ((string key, Tensor tensor) in theirs) Assert.Equal(tensor.shape, ours[key].shape);
        Assert.Contains("base_model.model.conv.lora_magnitude_vector", ours.Keys);
        Assert.True(JsonNode.Parse(File.ReadAllText(temp.File(LoraConfig.ConfigFileName)))!["use_dora"]!.GetValue<bool>());

        using var again = LoraModel.from_pretrained(fixture.Model(), temp.Path);
        LoraTestKit.AssertRelative(fixture["conv.output"], again.model.get_submodule("conv").call(fixture["conv.input"]), 1e-9, "conv");
    }

    [Fact]
    public void A_plain_config_says_use_dora_false_and_both_read_back()
    {
        Assert.False(JsonNode.Parse(new LoraConfig().to_json_string())!["use_dora"]!.GetValue<bool>());
        Assert.True(LoraConfig.from_json_string(DoraFixture.Config.to_json_string()).use_dora);
        Assert.False(LoraConfig.from_json_string(new LoraConfig().to_json_string()).use_dora);
    }
}
