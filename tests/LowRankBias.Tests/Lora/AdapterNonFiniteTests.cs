using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>An adapter file whose factors hold NaN or ±∞ is refused, naming the file and the tensor.</summary>
public sealed class AdapterNonFiniteTests
{
    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NonFiniteFactorIsRefusedNamingTheFileAndTheTensor(double value)
    {
        using var dir = new TempDirectory();
        using (var lora = new LoraModel(new TokenNet(), new LoraConfig { r = 2, lora_alpha = 4, target_modules = new[] { "fc1" } }))
        {
            foreach ((_, LoraLayer layer) in lora.lora_layers()) Randomize(layer, "default", 3);
            lora.save_pretrained(dir.Path);
        }
        string weights = dir.File(LoraModel.WeightsFileName);
        const string key = "base_model.model.blocks.1.fc1.lora_B.weight";
        using (var scope = NewDisposeScope())
        {
            Dictionary<string, Tensor> file = SafeTensors.load_file(weights);
            file[key].view(-1).narrow(0, 1, 2).fill_(value);
            SafeTensors.save_file(file, weights, new Dictionary<string, string> { ["format"] = "pt" });
        }

        using var model = new TokenNet();
        var error = Assert.Throws<InvalidDataException>(() => LoraModel.from_pretrained(model, dir.Path));

        Assert.StartsWith($"{weights}: '{key}' holds 2 NaN or ±∞ value(s) of ", error.Message);
    }
}
