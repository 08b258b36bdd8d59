using System.Text.Json.Nodes;
using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>PEFT adapter directories: save → load round trips, and the fixture written by tests/fixtures/peft/make_adapter.py.</summary>
public sealed partial class AdapterFileTests
{
    private static readonly LoraConfig Config = new()
    {
        r = 2, lora_alpha = 4, target_modules = new[] { "embed", "fc1", "fc2" }, modules_to_save = ["head"], bias = LoraBias.LoraOnly,
        rank_pattern = new Dictionary<string, int> { ["blocks.1.fc2"] = 1 },
    };

    private static LoraModel Trained(int seed)
    {
        var lora = new LoraModel(new TokenNet(), Config);
        foreach ((_, LoraLayer layer) in lora.lora_layers()) Randomize(layer, "default", seed++ * 3);
        using var scope = NewDisposeScope();
        foreach ((string name, Tensor p) in lora.named_parameters().Where(p => p.parameter.requires_grad && !p.name.Contains("lora_")))
            Fill(p, TestData.Randn(seed++, p.shape));
        return lora;
    }

    [Fact]
    public void SaveWritesPeftKeysMetadataAndConfig()
    {
        using var dir = new TempDirectory();
        using var lora = Trained(1);
        lora.save_pretrained(dir.Path);

        string weights = dir.File(LoraModel.WeightsFileName);
        Assert.Equal("pt", SafeTensors.load_metadata(weights)["format"]);
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> file = SafeTensors.load_file(weights);
        string[] expected = [
            "base_model.model.embed.lora_embedding_A", "base_model.model.embed.lora_embedding_B",
            "base_model.model.blocks.0.fc1.lora_A.weight", "base_model.model.blocks.0.fc1.lora_B.weight",
            "base_model.model.blocks.0.fc2.lora_A.weight", "base_model.model.blocks.0.fc2.lora_B.weight",
            "base_model.model.blocks.1.fc1.lora_A.weight", "base_model.model.blocks.1.fc1.lora_B.weight",
            "base_model.model.blocks.1.fc2.lora_A.weight", "base_model.model.blocks.1.fc2.lora_B.weight",
            "base_model.model.blocks.0.fc1.base_layer.bias", "base_model.model.blocks.0.fc2.base_layer.bias",
            "base_model.model.blocks.1.fc1.base_layer.bias", "base_model.model.blocks.1.fc2.base_layer.bias",
            "base_model.model.head.weight", "base_model.model.head.bias"];
        Assert.Equal(expected.Order(), file.Keys.Order());
        Assert.Equal([1, TokenNet.Hidden], file["base_model.model.blocks.1.fc2.lora_A.weight"].shape);
        Assert.Equal([2, TokenNet.Vocabulary], file["base_model.model.embed.lora_embedding_A"].shape);

        var json = JsonNode.Parse(File.ReadAllText(dir.File(LoraConfig.ConfigFileName)))!.AsObject();
        Assert.Equal("LORA", json["peft_type"]!.GetValue<string>());
        Assert.Equal(2, json["r"]!.GetValue<int>());
        Assert.Equal(4, json["lora_alpha"]!.GetValue<int>());
        Assert.Equal(["embed", "fc1", "fc2"], json["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("lora_only", json["bias"]!.GetValue<string>());
        Assert.True(json["init_lora_weights"]!.GetValue<bool>());
        Assert.False(json["use_rslora"]!.GetValue<bool>());
        Assert.Equal(1, json["rank_pattern"]!["blocks.1.fc2"]!.GetValue<int>());
        Assert.Equal(["head"], json["modules_to_save"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Null(json["num_heads"]);                                        // plain LoRA stays a plain PEFT config
    }

    [Fact]
    public void SaveThenLoadRoundTripsBitExactly()
    {
        using var dir = new TempDirectory();
        using var saved = Trained(2);
        saved.save_pretrained(dir.Path);
        using var loaded = LoraModel.from_pretrained(new TokenNet(), dir.Path);

        var before = saved.named_parameters().ToDictionary(p => p.name, p => ToDoubles(p.parameter));
        foreach ((string name, Tensor p) in loaded.named_parameters())
            Assert.True(before[name].SequenceEqual(ToDoubles(p)), $"{name} differs after the round trip");
        Assert.Equal(Config.to_json_string(), loaded.peft_config["default"].to_json_string());
        Assert.DoesNotContain(loaded.parameters(), p => p.requires_grad);     // loaded for inference
        using var scope = NewDisposeScope();
        Tensor tokens = TokenNet.Tokens(3, 2, 5);
        Assert.Equal(ToDoubles(saved.call(tokens)), ToDoubles(loaded.call(tokens)));

        using var trainable = LoraModel.from_pretrained(new TokenNet(), dir.Path, is_trainable: true);
        Assert.Equal(saved.get_nb_trainable_parameters(), trainable.get_nb_trainable_parameters());
    }

    [Fact]
    public void EveryAdapterGetsItsOwnDirectoryAndLoadsUnderAnyName()
    {
        using var dir = new TempDirectory();
        using var lora = Trained(3);
        Assert.Contains("modules_to_save ('head') of another adapter",
            Assert.Throws<ArgumentException>(() => lora.add_adapter("other", new LoraConfig { r = 1, target_modules = new[] { "head" } })).Message);
        lora.add_adapter("other", new LoraConfig { r = 1, target_modules = new[] { "fc2" }, init_lora_weights = LoraInit.Random });
        lora.save_pretrained(dir.Path);
        Assert.True(File.Exists(Path.Combine(dir.Path, "other", LoraModel.WeightsFileName)));

        using var target = new LoraModel(new TokenNet());
        AdapterLoadResult result = target.load_adapter(Path.Combine(dir.Path, "other"), "renamed");
        Assert.True(result.is_complete);
        var fc2 = (LoraLayer)target.model.get_submodule("blocks.1.fc2");
        Assert.Equal(ToDoubles(((LoraLayer)lora.model.get_submodule("blocks.1.fc2")).lora_B["other"]), ToDoubles(fc2.lora_B["renamed"]));
        Assert.IsType<Linear>(target.model.get_submodule("head"));             // "other" has no modules_to_save
    }

    [Fact]
    public void MissingAndUnexpectedKeysAreReported()
    {
        using var dir = new TempDirectory();
        using (var lora = Trained(4)) lora.save_pretrained(dir.Path);
        string weights = dir.File(LoraModel.WeightsFileName);
        using (var scope = NewDisposeScope())
        {
            Dictionary<string, Tensor> file = SafeTensors.load_file(weights);
            file.Remove("base_model.model.blocks.0.fc1.lora_B.weight");
            file["base_model.model.blocks.0.attn.lora_A.weight"] = zeros([2, 6]);
            SafeTensors.save_file(file, weights, new Dictionary<string, string> { ["format"] = "pt" });
        }

        var model = new TokenNet();
        var error = Assert.Throws<InvalidDataException>(() => LoraModel.from_pretrained(model, dir.Path));
        Assert.Contains("missing keys [base_model.model.blocks.0.fc1.lora_B.weight]", error.Message);
        Assert.Contains("unexpected keys [base_model.model.blocks.0.attn.lora_A.weight]", error.Message);
        Assert.IsType<Linear>(((Block)model.blocks[0]).fc1);                  // strict failure restores the plain model
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));

        using var lenient = new LoraModel(new TokenNet());
        AdapterLoadResult result = lenient.load_adapter(dir.Path);
        Assert.Equal(["base_model.model.blocks.0.fc1.lora_B.weight"], result.missing_keys);
        Assert.Equal(["base_model.model.blocks.0.attn.lora_A.weight"], result.unexpected_keys);
    }

    [Fact]
    public void AWeightsFileThatIsADirectoryIsNamedAsOne()
    {
        using var dir = new TempDirectory();
        using (var lora = Trained(4)) lora.save_pretrained(dir.Path);
        string weights = dir.File(LoraModel.WeightsFileName);
        File.Delete(weights);
        Directory.CreateDirectory(weights);
        var error = Assert.Throws<FileNotFoundException>(() => LoraModel.from_pretrained(new TokenNet(), dir.Path));
        Assert.Equal($"{weights}: is a directory, not a weights file", error.Message);
    }

    [Fact]
    public void IncompatibleShapesAndUnsupportedConfigsAreErrors()
    {
        using var dir = new TempDirectory();
        using (var lora = Trained(5)) lora.save_pretrained(dir.Path);
        string weights = dir.File(LoraModel.WeightsFileName);
        using (var scope = NewDisposeScope())
        {
            Dictionary<string, Tensor> file = SafeTensors.load_file(weights);
            file["base_model.model.head.weight"] = zeros([4, 6]);
            SafeTensors.save_file(file, weights);
        }
        var shape = Assert.Throws<InvalidDataException>(() => LoraModel.from_pretrained(new TokenNet(), dir.Path));
        Assert.Contains("'base_model.model.head.weight' has shape [4, 6] but the model expects [3, 6]", shape.Message);

        string json = File.ReadAllText(dir.File(LoraConfig.ConfigFileName));
        Assert.Contains("fan_in_fan_out", Assert.Throws<InvalidDataException>(() => LoraConfig.from_json_string(json.Replace("\"fan_in_fan_out\": false", "\"fan_in_fan_out\": true"))).Message);
        Assert.Contains("same key has already been added. Key: use_dora", Assert.Throws<InvalidDataException>(() => LoraConfig.from_json_string(json.Replace("\"peft_type\": \"LORA\",", "\"peft_type\": \"LORA\", \"use_dora\": true,"))).Message);
        Assert.Contains("key 'peft_type': IA3 adapters are not supported", Assert.Throws<InvalidDataException>(() => LoraConfig.from_json_string(json.Replace("\"LORA\"", "\"IA3\""))).Message);
        Assert.Contains("r must be positive", Assert.Throws<InvalidDataException>(() => LoraConfig.from_json_string(json.Replace("\"r\": 2", "\"r\": 0"))).Message);
    }

    [Fact]
    public void MultiHeadAdaptersRoundTripWithStackedFactors()
    {
        using var dir = new TempDirectory();
        using var saved = new LoraModel(new TokenNet(), new LoraConfig
            { r = 2, num_heads = 3, head_input = HeadInput.Split, head_ranks = [1, 2, 2], target_modules = new[] { "fc1" } });
        foreach ((_, LoraLayer layer) in saved.lora_layers()) Randomize(layer, "default", 90);
        saved.save_pretrained(dir.Path);
        using var scope = NewDisposeScope();
        Assert.Equal([3, 2, TokenNet.Width], SafeTensors.load_file(dir.File(LoraModel.WeightsFileName))["base_model.model.blocks.0.fc1.lora_A.weight"].shape);

        using var loaded = LoraModel.from_pretrained(new TokenNet(), dir.Path);
        Assert.All(loaded.lora_layers(), l => Assert.IsType<MultiHeadLoraLinear>(l.layer));
        Tensor tokens = TokenNet.Tokens(4, 3, 2);
        Assert.Equal(ToDoubles(saved.call(tokens)), ToDoubles(loaded.call(tokens)));
    }

    [Fact]
    public void ConfigJsonRoundTripsEverySetting()
    {
        var config = new LoraConfig
        {
            r = 3, lora_alpha = 2.5, target_modules = @"blocks\.\d+\.fc1", exclude_modules = new[] { "head" }, lora_dropout = 0.125,
            bias = LoraBias.All, use_rslora = true, init_lora_weights = LoraInit.SemiOrthogonal, modules_to_save = ["head"],
            rank_pattern = new Dictionary<string, int> { ["fc1"] = 2 }, alpha_pattern = new Dictionary<string, double> { ["fc2"] = 7 },
            num_heads = 4, head_input = HeadInput.Split, head_ranks = [1, 2, 3, 3], allow_rank_above_min = true,
        };
        LoraConfig back = LoraConfig.from_json_string(config.to_json_string());
        Assert.Equal(config.to_json_string(), back.to_json_string());
        Assert.Equal(@"blocks\.\d+\.fc1", back.target_modules!.regex);
        Assert.Equal([1, 2, 3, 3], back.head_ranks);
        Assert.Equal(HeadInput.Split, back.head_input);
        Assert.True(LoraConfig.from_json_string(new LoraConfig { target_modules = "all-linear" }.to_json_string()).target_modules!.all_linear);
        Assert.Equal(LoraInit.Random, LoraConfig.from_json_string("""{"peft_type": "LORA", "r": 8, "lora_alpha": 8, "init_lora_weights": false}""").init_lora_weights);
    }

    // Each malformed config gives one line naming the file, the key and what was expected.
    [Theory]
    [InlineData("""{"peft_type": "LORA", "lora_alpha": 8}""", "missing required key 'r' (an integer")]
    [InlineData("""{"peft_type": "LORA", "r": 2}""", "missing required key 'lora_alpha' (a number")]
    [InlineData("""{"r": 2, "lora_alpha": 8}""", "missing required key 'peft_type'")]
    [InlineData("""{"peft_type": "LORA", "r": "two", "lora_alpha": 8}""", "key 'r': expected an integer, got \"two\"")]
    [InlineData("""{"peft_type": "LORA", "r": 2.5, "lora_alpha": 8}""", "key 'r': expected an integer, got 2.5")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": "8"}""", "key 'lora_alpha': expected a number, got \"8\"")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "use_rslora": "yes"}""", "key 'use_rslora': expected true or false, got \"yes\"")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "bias": "some"}""", "key 'bias': unknown value \"some\", expected one of \"none\", \"all\", \"lora_only\"")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "init_lora_weights": "corda"}""", "key 'init_lora_weights': unknown init_lora_weights 'corda'")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "head_input": "sideways"}""", "key 'head_input': unknown value \"sideways\", expected one of \"shared\", \"split\"")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "target_modules": 3}""", "key 'target_modules': expected a list of module names or a regular expression string, got 3")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "target_modules": ["fc", 1]}""", "key 'target_modules[1]': expected a string, got 1")]
    [InlineData("""{"peft_type": "LORA", "r": 2, "lora_alpha": 8, "rank_pattern": {"fc": "4"}}""", "key 'rank_pattern.fc': expected an integer, got \"4\"")]
    [InlineData("""{"peft_type": "LORA", "r": 0, "lora_alpha": 8}""", "key 'r': LoRA rank r must be positive")]
    public void MalformedConfigIsOneLineNamingFileKeyAndExpectedType(string json, string expected)
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, LoraConfig.ConfigFileName);
        File.WriteAllText(path, json);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => LoraConfig.from_pretrained(dir.Path));
        Assert.Equal($"{path}: {expected}", error.Message[..Math.Min(error.Message.Length, path.Length + 2 + expected.Length)]);
        Assert.DoesNotContain('\n', error.Message);
    }

    /// <summary>The fixture's model: emb Embedding(6, 4), blocks.0.fc Linear(4 → 5), blocks.1.fc Linear(5 → 4), head Linear(4 → 3).</summary>
    private sealed class FixtureNet : Module
    {
        public Module emb = new Embedding(6, 4, dtype: F64);
        public ModuleList blocks = new(new FcBlock(4, 5), new FcBlock(5, 4));
        public Module head = LoraTestKit.Linear64(4, 3, 300);

        public override Tensor forward(Tensor input)
        {
            using Tensor e = emb.call(input);
            using Tensor h = blocks[0].call(e);
            using Tensor a = h.tanh();
            using Tensor o = blocks[1].call(a);
            return head.call(o);
        }
    }

    private sealed class FcBlock(long inFeatures, long outFeatures) : Module
    {
        public Module fc = LoraTestKit.Linear64(inFeatures, outFeatures, (int)(10 * inFeatures + outFeatures));

        public override Tensor forward(Tensor input) => fc.call(input);
    }

    private static double[] Values(long count, Func<int, double> value) => Enumerable.Range(0, (int)count).Select(value).ToArray();

    [Fact]
    public void FixtureWrittenFromTheSpecificationLoads()
    {
        string fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "peft", "tiny_adapter");
        var model = new FixtureNet();
        using var lora = LoraModel.from_pretrained(model, fixture);
        var embedding = (LoraEmbedding)model.emb;
        var first = (LoraLinear)((FcBlock)model.blocks[0]).fc;
        var second = (LoraLinear)((FcBlock)model.blocks[1]).fc;

        Assert.Equal(1, second.r["default"]);                                  // rank_pattern
        Assert.Equal(2.0, first.scaling["default"]);
        Assert.Equal(4.0, second.scaling["default"]);
        // Closed forms from make_adapter.py; float32 file values widen exactly into the float64 factors.
        Assert.Equal(Values(12, i => (i - 5) / 8.0), ToDoubles(embedding.lora_A["default"]));
        Assert.Equal(Values(8, i => (i + 1) / 16.0), ToDoubles(embedding.lora_B["default"]));
        Assert.Equal(Values(8, i => (i - 3) / 4.0), ToDoubles(first.lora_A["default"]));
        Assert.Equal(Values(10, i => (7 - i) / 32.0), ToDoubles(first.lora_B["default"]));
        Assert.Equal(Values(5, i => (i + 2) / 8.0), ToDoubles(second.lora_A["default"]));
        Assert.Equal(Values(4, i => (i - 1) / 2.0), ToDoubles(second.lora_B["default"]));
        Assert.Equal(Values(12, i => i / 64.0), ToDoubles(((Linear)model.head).weight));
        Assert.Equal(Values(3, i => -i), ToDoubles(((Linear)model.head).bias!));
        Assert.Equal(["head"], lora.modules_to_save);

        // blocks.0.fc on x: W x + b + 2·B A x, by hand from the closed forms.
        using var scope = NewDisposeScope();
        double[] x = [0.5, -1, 2, 0.25];
        double[] w = ToDoubles(first.weight), bias = ToDoubles(((Linear)first.base_layer).bias!);
        double[] ax = Values(2, k => Enumerable.Range(0, 4).Sum(j => (k * 4 + j - 3) / 4.0 * x[j]));
        double[] expected = Values(5, o => Enumerable.Range(0, 4).Sum(j => w[o * 4 + j] * x[j]) + bias[o]
            + 2 * Enumerable.Range(0, 2).Sum(k => (7 - (o * 2 + k)) / 32.0 * ax[k]));
        TestData.AssertClose(expected, first.call(tensor(x, [1, 4])), 1e-12);

        Tensor tokens = tensor(new long[] { 0, 5, 3, 1 }, [2, 2]);
        Tensor unmerged = lora.call(tokens);
        lora.merge();
        AssertRelative(unmerged, lora.call(tokens), 1e-10, "fixture model merged");
    }
}
