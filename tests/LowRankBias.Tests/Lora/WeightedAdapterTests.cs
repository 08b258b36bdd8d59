using LowRankBias.Lora;
using LowRankBias.Lora.Merging;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;
using LowRankBias.Torch.Tests.IO;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>
/// <see cref="LoraModel.add_weighted_adapter"/> against tests/fixtures/lora_merging/make_merging.py, which re-derives
/// PEFT's merge_utils and add_weighted_adapter paths with python3-torch 1.13 on the same fixed factors.
/// </summary>
public sealed class WeightedAdapterTests
{
    private const int Seed = 1234; // make_merging.py's SEED
    private static readonly string[] s_layers = ["fc1", "fc2", "conv", "emb"];
    private static readonly Lazy<Dictionary<string, Tensor>> s_fixture = new(() =>
    {
        var tensors = SafeTensors.load_file(Path.Combine(AppContext.BaseDirectory, "fixtures", "lora_merging", "merging.safetensors"));
        foreach (Tensor t in tensors.Values) t.DetachFromDisposeScope();
        return tensors;
    });

    /// <summary>make_merging.py's layers: fc1 Linear(6→5), fc2 Linear(5→4), conv Conv2d(2→3, 3×3), emb Embedding(7, 4).</summary>
    private sealed class MixNet : Module
    {
        public Module fc1 = Linear64(6, 5, 300), fc2 = Linear64(5, 4, 302);
        public Module conv = new Conv2d(2, 3, 3, dtype: F64);
        public Module emb = new Embedding(7, 4, dtype: F64);

        public override Tensor forward(Tensor input)
        {
            using Tensor h = fc1.call(input);
            using Tensor t = h.tanh();
            return fc2.call(t);
        }
    }

    // Adapters a (r 2, α 4), b (r 2, α 2), c (r 3, α 6) on every layer, with the fixture's factors.
    internal static LoraModel Adapted()
    {
        var lora = new LoraModel(new MixNet());
        foreach ((string name, int r, double alpha) in new[] { ("a", 2, 4.0), ("b", 2, 2.0), ("c", 3, 6.0) })
        {
            lora.add_adapter(name, new LoraConfig { r = r, lora_alpha = alpha, target_modules = s_layers });
            foreach ((string path, LoraLayer layer) in lora.lora_layers())
            {
                Fill(layer.lora_A[name], s_fixture.Value[$"{name}.{path}.A"]);
                Fill(layer.lora_B[name], s_fixture.Value[$"{name}.{path}.B"]);
            }
        }
        return lora;
    }

    private static Tensor Product(LoraLayer layer, string adapter) => layer.lora_B[adapter].flatten(1).mm(layer.lora_A[adapter].flatten(1));

    [Theory]
    [InlineData("linear", "linear", 2, null, "total", null, true, null)]
    [InlineData("ties", "ties", 2, 0.6, "total", null, true, null)]
    [InlineData("ties_frequency", "ties", 2, 0.6, "frequency", null, true, null)]
    [InlineData("dare_linear", "dare_linear", 2, 0.6, "total", null, true, null)]
    [InlineData("dare_ties", "dare_ties", 2, 0.6, "frequency", null, true, null)]
    [InlineData("magnitude_prune", "magnitude_prune", 2, 0.6, "total", null, true, null)]
    [InlineData("cat", "cat", 3, null, "total", null, true, null)]
    [InlineData("svd", "svd", 3, null, "total", null, true, null)]
    [InlineData("svd_rank_clamp", "svd", 3, null, "total", 0.9, false, 2)]
    [InlineData("ties_svd", "ties_svd", 3, 0.6, "total", null, true, null)]
    [InlineData("dare_linear_svd", "dare_linear_svd", 3, 0.6, "total", null, true, null)]
    [InlineData("dare_ties_svd", "dare_ties_svd", 3, 0.6, "total", null, true, null)]
    [InlineData("magnitude_prune_svd", "magnitude_prune_svd", 3, 0.6, "total", null, true, null)]
    public void EveryCombinationTypeMatchesThePythonDerivation(string fixtureCase, string type, int count, double? density, string method,
        double? clamp, bool fullMatrices, int? svdRank)
    {
        using var scope = NewDisposeScope();
        using LoraModel lora = Adapted();
        string[] adapters = new[] { "a", "b", "c" }[..count];
        double[] weights = new[] { 0.7, -0.4, 1.3 }[..count];
        manual_seed(Seed);
        lora.add_weighted_adapter(adapters, weights, "mix", type, svdRank, clamp, fullMatrices, density, method);

        int expectedRank = type == "cat" ? 7 : svdRank ?? (type.EndsWith("svd") ? 3 : 2);
        Assert.Equal(expectedRank, lora.peft_config["mix"].r);
        Assert.Equal(expectedRank, lora.peft_config["mix"].lora_alpha);
        Assert.Equal(["a"], lora.active_adapters); // added inactive
        foreach ((string path, LoraLayer layer) in lora.lora_layers())
        {
            Assert.Equal(1.0, layer.scaling["mix"]);
            Assert.False(layer.lora_A["mix"].requires_grad);
            if (type.EndsWith("svd"))
                AssertRelative(s_fixture.Value[$"{fixtureCase}.{path}.delta"], Product(layer, "mix"), 1e-10, $"{fixtureCase} {path} BA");
            else
            {
                AssertRelative(s_fixture.Value[$"{fixtureCase}.{path}.A"], layer.lora_A["mix"], 1e-10, $"{fixtureCase} {path} A");
                AssertRelative(s_fixture.Value[$"{fixtureCase}.{path}.B"], layer.lora_B["mix"], 1e-10, $"{fixtureCase} {path} B");
            }
        }
    }

    [Fact]
    public void LibtorchDrawsTheSameDareMasksAsPythonTorch()
    {
        // make_merging.py logged dare_linear's four masks on fc1 (A of a, A of b, B of a, B of b) after manual_seed(SEED).
        using var scope = NewDisposeScope();
        Tensor[] factors = [s_fixture.Value["a.fc1.A"], s_fixture.Value["b.fc1.A"], s_fixture.Value["a.fc1.B"], s_fixture.Value["b.fc1.B"]];
        manual_seed(Seed);
        for (int i = 0; i < factors.Length; i++)
        {
            Tensor mask = bernoulli(full_like(factors[i], 0.6));
            Assert.Equal(ToDoubles(s_fixture.Value[$"dare_masks.fc1.{i}"]), ToDoubles(mask));
        }
    }

    [Fact]
    public void CatIsExactAndTheNewAdapterRunsSavesAndMerges()
    {
        using var scope = NewDisposeScope();
        using LoraModel lora = Adapted();
        lora.add_weighted_adapter(["a", "b", "c"], [0.7, -0.4, 1.3], "mix", "cat");
        var fc1 = (LoraLinear)lora.lora_layers().First(l => l.path == "fc1").layer;
        // cat: BA = Σ wᵢ sᵢ BᵢAᵢ exactly (independent of the fixture).
        Tensor expected = fc1.get_delta_weight("a") * 0.7 - fc1.get_delta_weight("b") * 0.4 + fc1.get_delta_weight("c") * 1.3;
        AssertRelative(expected, fc1.get_delta_weight("mix"), 1e-12, "cat ΔW");

        lora.set_adapter("mix");
        Tensor x = TestData.Randn(5, 3, 6);
        Tensor h = x.mm(((Linear)fc1.base_layer).weight.t()) + ((Linear)fc1.base_layer).bias! + x.mm(expected.t());
        AssertRelative(h, fc1.call(x), 1e-12, "forward with the new adapter");

        Tensor before = lora.call(x);
        using var dir = new TempDirectory();
        lora.save_pretrained(dir.Path, ["mix"]);
        using LoraModel loaded = LoraModel.from_pretrained(new MixNet(), Path.Combine(dir.Path, "mix"), "mix");
        Assert.Equal(7, loaded.peft_config["mix"].r);
        AssertRelative(before, loaded.call(x), 1e-12, "saved and loaded");
        lora.merge();
        AssertRelative(before, lora.call(x), 1e-10, "merged");
    }

    [Fact]
    public void AnSvdRankAboveALayersRankIsExactWithZeroPadding()
    {
        using var scope = NewDisposeScope();
        using LoraModel lora = Adapted();
        lora.add_weighted_adapter(["a", "b", "c"], [0.7, -0.4, 1.3], "mix", "svd", svd_rank: 5);
        Assert.True(lora.peft_config["mix"].allow_rank_above_min); // conv's ΔW is 3 × 18
        foreach ((string path, LoraLayer layer) in lora.lora_layers())
        {
            // Rank 5 ≥ min(m, n) in every layer, so the SVD is exact: BA = Σ wᵢ·sᵢ·ΔWᵢ, ΔWᵢ already carrying sᵢ (PEFT's rule).
            Tensor expected = layer.get_delta_weight("a") * (0.7 * 2) - layer.get_delta_weight("b") * (0.4 * 1) + layer.get_delta_weight("c") * (1.3 * 2);
            Tensor matrix = layer is LoraEmbedding ? expected.t() : expected.flatten(1);
            AssertRelative(matrix, Product(layer, "mix"), 1e-10, $"{path} exact svd");
            Assert.Equal(5, layer.lora_A["mix"].size(0));
        }
        var conv = lora.lora_layers().First(l => l.path == "conv").layer;
        Assert.Equal(0.0, ToDoubles(conv.lora_A["mix"].narrow(0, 3, 2)).Max(Math.Abs)); // rows beyond min(3, 18) are zero
    }

    [Fact]
    public void BadArgumentsAreRefusedNamingTheValueAndAddNothing()
    {
        using var scope = NewDisposeScope();
        using LoraModel lora = Adapted();
        lora.add_adapter("wide", new LoraConfig { r = 3, lora_alpha = 3, target_modules = new[] { "fc1" } });
        lora.add_adapter("rx", new LoraConfig { r = 2, target_modules = "fc2" });
        long parameters = lora.parameters().Count();
        bool[] flags = lora.parameters().Select(p => p.requires_grad).ToArray();

        void Refused(string expected, Action call)
        {
            var e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Contains(expected, e.Message);
            Assert.False(lora.peft_config.ContainsKey("mix"));
            Assert.DoesNotContain(lora.lora_layers(), l => l.layer.adapter_configs.ContainsKey("mix"));
            Assert.Equal(parameters, lora.parameters().Count());
            Assert.Equal(flags, lora.parameters().Select(p => p.requires_grad).ToArray());
        }
        string[] ab = ["a", "b"];
        Refused("'blend'", () => lora.add_weighted_adapter(ab, [1, 1], "mix", "blend"));
        Refused("density", () => lora.add_weighted_adapter(ab, [1, 1], "mix", "ties", density: 0));
        Refused("density", () => lora.add_weighted_adapter(ab, [1, 1], "mix", "dare_linear", density: 1.5));
        Refused("'dare_ties' prunes: give a density", () => lora.add_weighted_adapter(ab, [1, 1], "mix", "dare_ties"));
        Refused("'majority'", () => lora.add_weighted_adapter(ab, [1, 1], "mix", "ties", density: 0.5, majority_sign_method: "majority"));
        Refused("1 weights for 2 adapters", () => lora.add_weighted_adapter(ab, [1], "mix", "linear"));
        Refused("unknown adapter 'zz'", () => lora.add_weighted_adapter(["a", "zz"], [1, 1], "mix", "linear"));
        Refused("already has an adapter named 'b'", () => lora.add_weighted_adapter(ab, [1, 1], "b", "linear"));
        Refused("weight 1 ('b') is NaN", () => lora.add_weighted_adapter(ab, [1, double.NaN], "mix", "linear"));
        Refused("svd_rank", () => lora.add_weighted_adapter(ab, [1, 1], "mix", "svd", svd_rank: 0));
        Refused("svd_clamp", () => lora.add_weighted_adapter(ab, [1, 1], "mix", "svd", svd_clamp: 1.2));
        Refused("r = [2, 3]", () => lora.add_weighted_adapter(["a", "c"], [1, 1], "mix", "linear"));
        Refused("use 'cat' or an svd type", () => lora.add_weighted_adapter(["a", "wide"], [1, 1], "mix", "ties", density: 0.5));
        Refused("different kinds", () => lora.add_weighted_adapter(["a", "rx"], [1, 1], "mix", "svd"));
        // Two regular expressions are one kind: joined with '|' (PEFT's rule).
        lora.add_adapter("rx1", new LoraConfig { r = 2, target_modules = "fc1" });
        parameters = lora.parameters().Count();
        flags = lora.parameters().Select(p => p.requires_grad).ToArray();
        lora.add_weighted_adapter(["rx", "rx1"], [1, 1], "mix2", "svd");
        Assert.Equal("(fc2)|(fc1)", lora.peft_config["mix2"].target_modules!.regex);

        using var headed = new LoraModel(new MixNet(), new LoraConfig { r = 2, num_heads = 2, target_modules = new[] { "fc1" } });
        headed.add_adapter("plain", new LoraConfig { r = 2, target_modules = new[] { "fc2" } });
        var heads = Assert.Throws<ArgumentException>(() => headed.add_weighted_adapter(["default", "plain"], [1, 1], "mix", "cat"));
        Assert.Contains("adapter 'default' has heads (num_heads = 2", heads.Message);
        Assert.False(headed.peft_config.ContainsKey("mix"));

        // PEFT's rule: a module that several of the adapters save whole cannot be combined.
        using var saving = new LoraModel(new MixNet(), new LoraConfig { r = 2, target_modules = new[] { "fc1" }, modules_to_save = ["emb"] }, "s1");
        saving.add_adapter("s2", new LoraConfig { r = 2, target_modules = new[] { "fc1" }, modules_to_save = ["emb"] });
        var shared = Assert.Throws<ArgumentException>(() => saving.add_weighted_adapter(["s1", "s2"], [1, 1], "mix", "linear"));
        Assert.Contains("save module 'emb' whole", shared.Message);
        Assert.False(saving.peft_config.ContainsKey("mix"));
    }

    // PEFT's add_weighted_adapter copies adapters[0]'s config, use_dora included, and injects the new adapter with its
    // magnitude at the norm of a fresh one (‖W‖): the sources' trained lora_magnitude_vector is dropped without a word
    // (model.py, add_weighted_adapter; _check_add_weighted_adapter has no use_dora check). Refused here, first or not.
    [Theory]
    [InlineData(new[] { "a", "d" }, "svd")]
    [InlineData(new[] { "d", "a" }, "cat")]
    [InlineData(new[] { "d" }, "linear")]
    public void DoraAdaptersAreRefusedNamingUseDoraAndTheAdapterAndAddNothing(string[] adapters, string type)
    {
        using var scope = NewDisposeScope();
        using LoraModel lora = Adapted();
        lora.add_adapter("d", new LoraConfig { r = 2, lora_alpha = 4, use_dora = true, target_modules = s_layers });
        long parameters = lora.parameters().Count();
        bool[] flags = lora.parameters().Select(p => p.requires_grad).ToArray();
        var e = Assert.Throws<ArgumentException>(() => lora.add_weighted_adapter(adapters, adapters.Select(_ => 1.0).ToArray(), "mix", type));
        Assert.Equal("adapters", e.ParamName);
        Assert.Contains("adapter 'd' sets use_dora", e.Message);
        Assert.Contains("lora_magnitude_vector", e.Message);
        Assert.False(lora.peft_config.ContainsKey("mix"));
        Assert.DoesNotContain(lora.lora_layers(), l => l.layer.adapter_configs.ContainsKey("mix"));
        Assert.Equal(parameters, lora.parameters().Count());
        Assert.Equal(flags, lora.parameters().Select(p => p.requires_grad).ToArray());
    }

    [Fact]
    public void TargetsThatDoNotCoverTheAdaptersAreRefusedAfterPlanningWithoutTrace()
    {
        using var scope = NewDisposeScope();
        using LoraModel lora = Adapted();
        // 'ex' holds fc1 only because it excludes fc2, 'ry' holds fc2; their united targets (fc1|fc2)|(fc2) under 'ex''s
        // exclusions (PEFT keeps adapters[0]'s other settings) miss fc2, which holds 'ry'.
        lora.add_adapter("ex", new LoraConfig { r = 2, target_modules = "fc1|fc2", exclude_modules = new[] { "fc2" } });
        lora.add_adapter("ry", new LoraConfig { r = 2, target_modules = "fc2" });
        bool[] flags = lora.parameters().Select(p => p.requires_grad).ToArray();
        var e = Assert.Throws<ArgumentException>(() => lora.add_weighted_adapter(["ex", "ry"], [1, 1], "mix", "linear"));
        Assert.Contains("'fc2' holds some of [ex, ry]", e.Message);
        Assert.False(lora.peft_config.ContainsKey("mix"));
        Assert.Equal(flags, lora.parameters().Select(p => p.requires_grad).ToArray());
    }

    [Fact]
    public void MajoritySignAndDisjointMergeFollowTies()
    {
        using var scope = NewDisposeScope();
        // Two task tensors at four positions; by hand: total sums (1.5, −1, 0, −2.5) → signs (+, −, +, −);
        // frequency counts (0, 0, 0, −2) → (+, +, +, −). Zeros never agree.
        Tensor t = tensor(new double[] { 2, -3, 0, -2, -0.5, 2, 0, -0.5 }, [2, 4]);
        Assert.Equal(new[] { 1.0, 1, 0, 1, 0, 0, 0, 1 }, ToDoubles(MergeUtils.calculate_majority_sign_mask(t, "total")));
        Assert.Equal(new[] { 1.0, 0, 0, 1, 0, 1, 0, 1 }, ToDoubles(MergeUtils.calculate_majority_sign_mask(t, "frequency")));
        Tensor merged = MergeUtils.disjoint_merge(t, MergeUtils.calculate_majority_sign_mask(t, "total"));
        Assert.Equal(new[] { 2.0, -3, 0, -1.25 }, ToDoubles(merged));
        Tensor pruned = MergeUtils.magnitude_based_pruning(tensor(new double[] { 0.1, -4, 3, -0.2, 1 }, [5]), 0.6);
        Assert.Equal(new[] { 0.0, -4, 3, 0, 1 }, ToDoubles(pruned));
    }
}

/// <summary>Live-tensor counts are process-wide: this runs in the serial LoRA collection.</summary>
[Collection(SerialCollection.Name)]
public sealed class WeightedAdapterLeakTests
{
    [Fact]
    public void CombiningKeepsOnlyTheNewFactors()
    {
        using LoraModel lora = WeightedAdapterTests.Adapted();
        lora.add_weighted_adapter(["a", "b", "c"], [0.7, -0.4, 1.3], "first", "dare_ties_svd", density: 0.5, svd_clamp: 0.9);
        long before = TestData.SettledLiveCount();
        lora.add_weighted_adapter(["a", "b", "c"], [0.7, -0.4, 1.3], "second", "dare_ties_svd", density: 0.5, svd_clamp: 0.9);
        lora.add_weighted_adapter(["a", "b"], [0.7, -0.4], "third", "ties", density: 0.5);
        Assert.Equal(before + 2 * 2 * 4, Tensor.LiveCount); // A and B in four layers, twice
    }
}
