using LowRankBias.Tool;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Quantization;
using LowRankBias.Torch.Tests.IO;

namespace LowRankBias.Tool.Tests;

/// <summary>The tool's inputs beyond one file: Hugging Face shard indexes and PEFT adapter folders (as ΔW = s·B·A).</summary>
public class WeightSourceTests
{
    [Fact]
    public void AShardIndexJoinsItsShardsAndAMissingShardIsOneError()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["a.weight"] = ones([3, 2]) }, dir.File("model-00001-of-00002.safetensors"));
        SafeTensors.save_file(new Dictionary<string, Tensor> { ["b.weight"] = full([2, 5], 2.0f) }, dir.File("model-00002-of-00002.safetensors"));
        File.WriteAllText(dir.File("model.safetensors.index.json"),
            """{"metadata": {}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}}""");
        using (var source = new WeightSource(dir.Path)) // the folder reads as its index
        {
            Assert.Equal(["a.weight", "b.weight"], source.Entries.Select(e => e.Name).Order());
            Assert.Equal(20, source.Load("b.weight").sum().item<float>());
        }
        File.Delete(dir.File("model-00002-of-00002.safetensors"));
        var error = Assert.Throws<FileNotFoundException>(() => new WeightSource(dir.File("model.safetensors.index.json")));
        Assert.Contains("names the shard model-00002-of-00002.safetensors", error.Message);
    }

    [Fact]
    public void AnAdapterFolderIsItsUpdatesScaledPerModule()
    {
        // tests/fixtures/peft/make_adapter.py: blocks.1.fc has rank 1 (rank_pattern) and lora_alpha 4, so s = 4;
        // A = (2, 3, 4, 5, 6)/8, B = (−1, 0, 1, 2)ᵀ/2, and ΔW = 4·B·A, rank 1 with ‖ΔW‖₂ = 4‖B‖‖A‖.
        using var scope = NewDisposeScope();
        using var source = new WeightSource(Path.Combine(AppContext.BaseDirectory, "fixtures", "peft", "tiny_adapter"));
        Assert.Equal(["blocks.0.fc.weight", "blocks.1.fc.weight", "emb.weight"], source.Entries.Select(e => e.Name).Order());
        Tensor delta = source.Load("blocks.1.fc.weight");
        Assert.Equal([4L, 5], delta.shape);
        float[] values = delta.ToArray<float>();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 5; j++)
                Assert.Equal(4 * (i - 1) / 2.0 * (j + 2) / 8.0, values[i * 5 + j], 6);
        Assert.Equal([6L, 4], source.Entries.Single(e => e.Name == "emb.weight").Shape); // embedding ΔW = (s·B·A)ᵀ: [num, dim]
    }

    [Theory]
    [InlineData(QuantizationConfig.NF4, false)]
    [InlineData(QuantizationConfig.NF4, true)]
    [InlineData(QuantizationConfig.Int8, false)]
    public void QuantizedWeightsReadAsTheirDequantizedValues(string type, bool doubleQuant)
    {
        // The state dict of a QuantizedLinear (bitsandbytes' keys) must read as one float32 weight equal to the layer's
        // own dequantize() (which QuantizationReferenceTests check against the QLoRA / LLM.int8() reference), within
        // quantization error of the original; the auxiliary tensors are hidden.
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var linear = new Linear(128, 24, bias: true);
        using var layer = new QuantizedLinear(linear, new QuantizationConfig { quant_type = type, use_double_quant = doubleQuant, stochastic_rounding = false });
        SafeTensors.save_file(layer.state_dict().ToDictionary(e => e.Key, e => e.Value), dir.File("q.safetensors"));
        using var source = new WeightSource(dir.File("q.safetensors"));
        Assert.Equal(["bias", "weight"], source.Entries.Select(e => e.Name).Order());
        var (_, shape, dtype) = source.Entries.Single(e => e.Name == "weight");
        Assert.Equal([24L, 128], shape);
        Assert.Equal(ScalarType.Float32, dtype);
        Tensor read = source.Load("weight");
        Assert.Equal(0, (read - layer.dequantize()).abs().max().item<float>());
        Assert.True((read - linear.weight).abs().max().item<float>() < 0.2 * linear.weight.abs().max().item<float>());
    }
}
