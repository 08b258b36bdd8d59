using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

// A load that fails changes nothing: no wrapper is injected, no flag or value changes, no adapter is added.
public sealed partial class AdapterFileTests
{
    // The module tree (paths and types), every parameter's path and requires_grad flag, and its values.
    private static List<string> Snapshot(Module model) =>
        model.named_modules().Select(m => $"{m.name}: {m.module.GetType().Name}")
            .Concat(model.named_parameters().Select(p => $"{p.name} requires_grad={p.parameter.requires_grad} [{string.Join(", ", ToDoubles(p.parameter))}]"))
            .ToList();

    public static TheoryData<string> Damages => ["wrong-shaped factor", "different r", "integer factor"];

    [Theory]
    [MemberData(nameof(Damages))]
    public void FailedFromPretrainedLeavesTheCallersModelExactlyAsItWas(string damage)
    {
        using var dir = new TempDirectory();
        using (var lora = Trained(6)) lora.save_pretrained(dir.Path);
        string weights = dir.File(LoraModel.WeightsFileName);
        string expected;
        if (damage == "different r")
        {
            string config = dir.File(LoraConfig.ConfigFileName);
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"r\": 2", "\"r\": 3"));
            expected = "'base_model.model.embed.lora_embedding_A' has shape [2, 11] but the model expects [3, 11]";
        }
        else
        {
            using var scope = NewDisposeScope();
            Dictionary<string, Tensor> file = SafeTensors.load_file(weights);
            file["base_model.model.blocks.1.fc1.lora_B.weight"] = damage == "integer factor" ? zeros([10, 2], ScalarType.Int32) : zeros([10, 3]);
            SafeTensors.save_file(file, weights, new Dictionary<string, string> { ["format"] = "pt" });
            expected = damage == "integer factor"
                ? "'base_model.model.blocks.1.fc1.lora_B.weight' has dtype Int32"
                : "'base_model.model.blocks.1.fc1.lora_B.weight' has shape [10, 3] but the model expects [10, 2]";
        }
        var model = new TokenNet();
        model.blocks[1].requires_grad_(false); // flags of the caller's own choosing must survive too
        List<string> before = Snapshot(model);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => LoraModel.from_pretrained(model, dir.Path));

        Assert.Contains(expected, error.Message);
        Assert.Equal(before, Snapshot(model));
    }

    [Fact]
    public void FailedLoadAdapterLeavesTheLoraModelAndItsAdaptersAsTheyWere()
    {
        using var dir = new TempDirectory();
        using (var lora = Trained(7)) lora.save_pretrained(dir.Path);
        using (var scope = NewDisposeScope())
        {
            string weights = dir.File(LoraModel.WeightsFileName);
            Dictionary<string, Tensor> file = SafeTensors.load_file(weights);
            file["base_model.model.embed.lora_embedding_A"] = zeros([2, 5]);
            SafeTensors.save_file(file, weights, new Dictionary<string, string> { ["format"] = "pt" });
        }
        using var target = new LoraModel(new TokenNet(), new LoraConfig { r = 1, target_modules = new[] { "fc1" } });
        List<string> before = Snapshot(target);

        Assert.Throws<InvalidDataException>(() => target.load_adapter(dir.Path, "second", is_trainable: true));

        Assert.Equal(before, Snapshot(target));
        Assert.Equal(["default"], target.peft_config.Keys);
        target.add_adapter("second", new LoraConfig { r = 1, target_modules = new[] { "fc2" } }); // the name is still free
    }
}
