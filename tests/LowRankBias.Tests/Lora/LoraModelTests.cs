using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>Injection into users' own models (<see cref="TokenNet"/>, <see cref="ConvNet"/>), adapter management and merging.</summary>
public sealed class LoraModelTests
{
    private static void RandomizeAll(LoraModel model, string adapter, int seed)
    {
        foreach ((_, LoraLayer layer) in model.lora_layers())
            if (layer.adapter_configs.ContainsKey(adapter)) Randomize(layer, adapter, seed++ * 7);
    }

    private static string[] Wrapped(LoraModel model) => model.lora_layers().Select(l => l.path).ToArray();

    [Fact]
    public void WholeTokenModelMergedAndUnmergedAgree()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraModel(new TokenNet(), new LoraConfig { r = 2, lora_alpha = 4, target_modules = new[] { "embed", "fc1", "fc2", "head" } });
        Assert.Equal(["embed", "blocks.0.fc1", "blocks.0.fc2", "blocks.1.fc1", "blocks.1.fc2", "head"], Wrapped(lora));
        Tensor tokens = TokenNet.Tokens(1, 4, 5);
        Tensor plain = lora.call(tokens);
        RandomizeAll(lora, "default", 1);
        Tensor unmerged = lora.call(tokens);
        Assert.NotEqual(ToDoubles(plain), ToDoubles(unmerged));

        lora.merge();
        AssertRelative(unmerged, lora.call(tokens), 1e-10, "merged model");
        lora.unmerge();
        using var fresh = new TokenNet();
        foreach ((string path, LoraLayer layer) in lora.lora_layers())
            TestData.AssertClose(ToDoubles(fresh.get_parameter(path + ".weight")), layer.weight, 1e-14);
    }

    [Fact]
    public void WholeConvModelMergeAndUnloadGivesThePlainModelWithMergedWeights()
    {
        using var scope = NewDisposeScope();
        var model = new ConvNet();
        var lora = new LoraModel(model, new LoraConfig { r = 2, lora_alpha = 2, target_modules = new[] { "conv", "fc" } });
        RandomizeAll(lora, "default", 3);
        Tensor x = TestData.Randn(5, 3, ConvNet.Channels, ConvNet.Side, ConvNet.Side);
        Tensor unmerged = lora.call(x);

        Module plain = lora.merge_and_unload();
        Assert.Same(model, plain);
        Assert.IsType<Conv2d>(model.conv);
        Assert.IsType<Linear>(model.fc);
        Assert.DoesNotContain(plain.named_parameters(), p => p.name.Contains("lora_"));
        AssertRelative(unmerged, plain.call(x), 1e-10, "merged, unloaded model");
        Assert.Throws<InvalidOperationException>(() => lora.call(x));
        plain.Dispose();
    }

    [Fact]
    public void UnloadWithoutMergingRestoresTheOriginalModel()
    {
        using var scope = NewDisposeScope();
        var lora = new LoraModel(new ConvNet(), new LoraConfig { r = 2, target_modules = "all-linear" });
        RandomizeAll(lora, "default", 4);
        using Module plain = lora.unload();
        using var reference = new ConvNet();
        Tensor x = TestData.Randn(6, 2, ConvNet.Channels, ConvNet.Side, ConvNet.Side);
        Assert.Equal(ToDoubles(reference.call(x)), ToDoubles(plain.call(x)));
    }

    [Fact]
    public void TargetsMatchByNameSuffixRegexAllLinearAndExclusions()
    {
        string[] Targets(LoraConfig config)
        {
            using var lora = new LoraModel(new TokenNet(), config with { r = 1 });
            return Wrapped(lora);
        }

        Assert.Equal(["blocks.0.fc1", "blocks.1.fc1"], Targets(new LoraConfig { target_modules = new[] { "fc1" } }));
        Assert.Equal(["blocks.1.fc1"], Targets(new LoraConfig { target_modules = new[] { "blocks.1.fc1" } }));
        Assert.Equal(["blocks.0.fc2", "blocks.1.fc1"], Targets(new LoraConfig { target_modules = @"blocks\.(0\.fc2|1\.fc1)" }));
        Assert.Equal(["blocks.0.fc1", "blocks.0.fc2", "blocks.1.fc1", "blocks.1.fc2", "head"], Targets(new LoraConfig { target_modules = "all-linear" }));
        Assert.Equal(["blocks.0.fc1", "blocks.0.fc2", "blocks.1.fc1", "blocks.1.fc2"],
            Targets(new LoraConfig { target_modules = "all-linear", modules_to_save = ["head"] }));
        Assert.Equal(["blocks.0.fc1", "blocks.0.fc2", "head"],
            Targets(new LoraConfig { target_modules = "all-linear", exclude_modules = new[] { "blocks.1.fc1", "blocks.1.fc2" } }));
        Assert.Equal(["blocks.1.fc2"], Targets(new LoraConfig { target_modules = new[] { "fc2" }, exclude_modules = @"blocks\.0\..*" }));
    }

    [Fact]
    public void RankAndAlphaPatternsOverridePerLayer()
    {
        using var lora = new LoraModel(new TokenNet(), new LoraConfig
        {
            r = 2, lora_alpha = 8, target_modules = new[] { "fc1", "fc2" },
            rank_pattern = new Dictionary<string, int> { ["blocks.0.fc1"] = 4, [@"1\.fc\d"] = 1 },
            alpha_pattern = new Dictionary<string, double> { ["fc2"] = 3 },
        });
        var layers = lora.lora_layers().ToDictionary(l => l.path, l => l.layer);
        Assert.Equal(4, layers["blocks.0.fc1"].r["default"]);
        Assert.Equal(2, layers["blocks.0.fc2"].r["default"]);
        Assert.Equal(1, layers["blocks.1.fc1"].r["default"]);
        Assert.Equal(1, layers["blocks.1.fc2"].r["default"]);
        Assert.Equal(8.0 / 4, layers["blocks.0.fc1"].scaling["default"]);
        Assert.Equal(3.0 / 2, layers["blocks.0.fc2"].scaling["default"]);
        Assert.Equal(3.0 / 1, layers["blocks.1.fc2"].scaling["default"]);
        Assert.Equal([TokenNet.Hidden, 1], layers["blocks.1.fc1"].lora_B["default"].shape);
    }

    [Fact]
    public void OnlyFactorsNamedBiasesAndModulesToSaveTrainAndTheCountIsPrinted()
    {
        using var lora = new LoraModel(new TokenNet(), new LoraConfig { r = 2, target_modules = new[] { "fc1" }, modules_to_save = ["head"] });
        string[] trainable = lora.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToArray();
        Assert.Equal([
            "model.blocks.0.fc1.lora_A.default", "model.blocks.0.fc1.lora_B.default",
            "model.blocks.1.fc1.lora_A.default", "model.blocks.1.fc1.lora_B.default",
            "model.head.weight", "model.head.bias"], trainable);

        // By hand: 2 blocks × (A 2×6 + B 10×2) + head 3×6 + 3 = 64 + 21 = 85 trainable; base: embed 66,
        // per block fc1 6·10 + 10 and fc2 10·6 + 6 (136), head 21 → 66 + 272 + 21 = 359, plus the 64 factor values.
        Assert.Equal("trainable params: 85 || all params: 423 || trainable%: 20.0946", lora.print_trainable_parameters());

        using var withBias = new LoraModel(new TokenNet(), new LoraConfig { r = 2, target_modules = new[] { "fc1" }, bias = LoraBias.LoraOnly });
        Assert.Equal(["model.blocks.0.fc1.base_layer.bias", "model.blocks.0.fc1.lora_A.default", "model.blocks.0.fc1.lora_B.default",
            "model.blocks.1.fc1.base_layer.bias", "model.blocks.1.fc1.lora_A.default", "model.blocks.1.fc1.lora_B.default"],
            withBias.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name));
        using var allBiases = new LoraModel(new TokenNet(), new LoraConfig { r = 2, target_modules = new[] { "fc1" }, bias = LoraBias.All });
        Assert.Equal(5 + 4, allBiases.named_parameters().Count(p => p.parameter.requires_grad));
    }

    [Fact]
    public void NamedAdaptersSwitchDisableAndMergeSeparately()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraModel(new TokenNet(), new LoraConfig { r = 2, target_modules = new[] { "fc1" } }, "task_a");
        lora.add_adapter("task_b", new LoraConfig { r = 1, target_modules = new[] { "fc2", "blocks.0.fc1" } });
        RandomizeAll(lora, "task_a", 10);
        RandomizeAll(lora, "task_b", 20);
        Tensor tokens = TokenNet.Tokens(2, 3, 4);
        Tensor outA = lora.call(tokens);
        Assert.Equal(["task_a"], lora.active_adapters);
        Assert.Equal(["blocks.0.fc1", "blocks.0.fc2", "blocks.1.fc1", "blocks.1.fc2"], Wrapped(lora));

        lora.set_adapter("task_b");
        Tensor outB = lora.call(tokens);
        Assert.NotEqual(ToDoubles(outA), ToDoubles(outB));
        Assert.All(lora.named_parameters().Where(p => p.parameter.requires_grad), p => Assert.EndsWith(".task_b", p.name));

        lora.disable_adapters();
        using var reference = new TokenNet();
        Assert.Equal(ToDoubles(reference.call(tokens)), ToDoubles(lora.call(tokens)));
        lora.enable_adapters();
        AssertRelative(outB, lora.call(tokens), 1e-14, "re-enabled");

        lora.set_adapter("task_a");
        lora.merge();
        AssertRelative(outA, lora.call(tokens), 1e-10, "task_a merged");
        lora.unmerge();
        lora.set_adapter("task_a", "task_b");
        lora.merge(adapter_names: ["task_a", "task_b"]);
        Tensor both = lora.call(tokens);
        lora.unmerge();
        AssertRelative(both, lora.call(tokens), 1e-10, "both adapters, merged vs unmerged");
    }

    [Fact]
    public void TargetsThatMatchNothingListTheModelsModules()
    {
        var error = Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(), new LoraConfig { target_modules = new[] { "fc1", "q_proj" } }));
        Assert.Contains("target_modules entry 'q_proj' matches no module", error.Message);
        Assert.Contains("blocks.0.fc1 (Linear)", error.Message);
        Assert.Contains("embed (Embedding)", error.Message);

        var regex = Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(), new LoraConfig { target_modules = "attn.*" }));
        Assert.Contains("matches no module", regex.Message);
        var excluded = Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(), new LoraConfig { target_modules = new[] { "head" }, exclude_modules = new[] { "head" } }));
        Assert.Contains("after exclude_modules", excluded.Message);
        var save = Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(), new LoraConfig { target_modules = new[] { "fc1" }, modules_to_save = ["classifier"] }));
        Assert.Contains("modules_to_save entry 'classifier'", save.Message);
        var pattern = Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(),
            new LoraConfig { target_modules = new[] { "fc1" }, rank_pattern = new Dictionary<string, int> { ["fc3"] = 4 } }));
        Assert.Contains("'fc3' matches none of the targeted modules", pattern.Message);
    }

    [Fact]
    public void BadConfigurationsRaiseClearErrors()
    {
        Assert.Contains("rank r must be positive", Assert.Throws<ArgumentOutOfRangeException>(() => new LoraConfig { r = 0 }.Validate()).Message);
        Assert.Contains("lora_alpha", Assert.Throws<ArgumentOutOfRangeException>(() => new LoraConfig { lora_alpha = 0 }.Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoraConfig { lora_alpha = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoraConfig { lora_dropout = 1 }.Validate());
        Assert.Contains("unknown bias 'some'", Assert.Throws<ArgumentException>(() => new LoraConfig { bias = "some" }.Validate()).Message);
        Assert.Contains("unknown init_lora_weights 'corda'", Assert.Throws<ArgumentException>(() => new LoraConfig { init_lora_weights = "corda" }.Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoraConfig { rank_pattern = new Dictionary<string, int> { ["fc"] = 0 } }.Validate());
        Assert.Contains("not a valid regular expression", Assert.Throws<ArgumentException>(() => new LoraConfig { target_modules = "fc(" }).Message);

        var rank = Assert.Throws<ArgumentException>(() => new LoraLinear(Linear64(4, 3, 1), new LoraConfig { r = 4 }));
        Assert.Contains("rank 4 exceeds min(out, in) = min(3, 4) = 3", rank.Message);
        using var allowed = new LoraLinear(Linear64(4, 3, 1), new LoraConfig { r = 4, allow_rank_above_min = true });

        Assert.Contains("target_modules is required", Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(), new LoraConfig())).Message);
        var type = Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(), new LoraConfig { target_modules = new[] { "blocks.0" } }));
        Assert.Contains("'blocks.0', a Block; LoRA supports Linear, Conv2d, Embedding", type.Message);
        var heads = Assert.Throws<ArgumentException>(() => new LoraModel(new TokenNet(), new LoraConfig { r = 2, num_heads = 2, head_ranks = [1, 2], target_modules = new[] { "embed" } }));
        Assert.Contains("per-head ranks (head_ranks) are supported on linear layers only; this layer is a Embedding", heads.Message);
    }

    [Theory]
    [InlineData("lora_A")]
    [InlineData("base_layer")]
    [InlineData("weight")]
    [InlineData("a.b")]
    [InlineData("2nd")]
    [InlineData("fc1")]
    [InlineData("blocks")]
    public void AdapterNamesThatClashWithKeySegmentsAreRejected(string name)
    {
        var model = new TokenNet();
        var error = Assert.Throws<ArgumentException>(() => new LoraModel(model, new LoraConfig { r = 1, target_modules = new[] { "fc1" } }, name));
        Assert.Contains($"'{name}'", error.Message);
        Assert.IsType<Linear>(((Block)model.blocks[0]).fc1);                  // nothing was injected
    }

    [Fact]
    public void MultiHeadAdaptersInjectIntoLinearLayers()
    {
        using var scope = NewDisposeScope();
        using var lora = new LoraModel(new TokenNet(), new LoraConfig { r = 2, num_heads = 3, target_modules = new[] { "fc1", "fc2" } });
        Assert.All(lora.lora_layers(), l => Assert.IsType<MultiHeadLoraLinear>(l.layer));
        RandomizeAll(lora, "default", 30);
        Tensor tokens = TokenNet.Tokens(3, 3, 4);
        Tensor unmerged = lora.call(tokens);
        lora.merge();
        AssertRelative(unmerged, lora.call(tokens), 1e-10, "merged multi-head model");
    }

    [Fact]
    public void RejectedLayerLeavesTheModelUntouched()
    {
        var model = new TokenNet();
        // fc1 (6 → 10) accepts rank 6, fc2 (10 → 6) too, but the embedding (11 × 6) and head (6 → 3) cannot.
        Assert.Throws<ArgumentException>(() => new LoraModel(model, new LoraConfig { r = 4, target_modules = new[] { "fc1", "head" } }));
        Assert.IsType<Linear>(((Block)model.blocks[0]).fc1);
        Assert.IsType<Linear>(model.head);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));

        // A second adapter that an already wrapped layer rejects (one head vs. several) changes nothing either.
        using var lora = new LoraModel(new TokenNet(), new LoraConfig { r = 2, target_modules = new[] { "fc1" } });
        Assert.Throws<ArgumentException>(() => lora.add_adapter("multi", new LoraConfig { r = 2, num_heads = 2, target_modules = new[] { "fc1", "fc2" } }));
        Assert.Equal(["blocks.0.fc1", "blocks.1.fc1"], Wrapped(lora));
        Assert.All(lora.lora_layers(), l => Assert.Equal(["default"], l.layer.adapter_configs.Keys));
        Assert.Equal(["default"], lora.peft_config.Keys);
    }
}
