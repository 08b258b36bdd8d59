using LowRankBias.Lora;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests;
using static LowRankBias.Tests.Lora.LoraTestKit;

namespace LowRankBias.Tests.Lora;

/// <summary>LoRA+ parameter groups (PEFT's create_loraplus_optimizer) and one AdamW step against a float64 hand computation.</summary>
public sealed class LoraPlusTests
{
    /// <summary>tokens → emb → fc1 → norm → mean → head.</summary>
    private sealed class PlusNet : Module
    {
        public Module emb = new Embedding(9, 4, dtype: F64);
        public Module fc1 = Linear64(4, 4, 400);
        public Module norm = new LayerNorm(4, dtype: F64);
        public Module head = Linear64(4, 2, 402);

        public override Tensor forward(Tensor input)
        {
            using Tensor e = emb.call(input);
            using Tensor h = fc1.call(e);
            using Tensor n = norm.call(h);
            using Tensor m = n.mean(1);
            return head.call(m);
        }
    }

    private static LoraModel Adapted()
    {
        var lora = new LoraModel(new PlusNet(), new LoraConfig
        {
            r = 2, target_modules = new[] { "emb", "fc1" }, modules_to_save = ["norm", "head"], bias = LoraBias.LoraOnly, init_lora_weights = LoraInit.Random,
        });
        using var scope = NewDisposeScope();
        foreach ((_, LoraLayer layer) in lora.lora_layers()) Randomize(layer, "default", 410);
        return lora;
    }

    [Fact]
    public void ParametersFallIntoPeftsFourGroupsWithTheirRates()
    {
        using LoraModel lora = Adapted();
        using AdamW optimizer = LoraPlus.create_loraplus_optimizer(lora, g => new AdamW(g), new AdamWOptions(), lr: 1e-3, loraplus_lr_ratio: 16,
            loraplus_weight_decay: 0.1);
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach ((string name, Tensor p) in lora.named_parameters()) names.Add(p, name);
        string[][] members = optimizer.param_groups.Select(g => g.@params.Select(p => names[p]).ToArray()).ToArray();
        Assert.Equal(["model.fc1.lora_A.default", "model.head.weight"], members[0]);                    // groupA
        Assert.Equal(["model.emb.lora_embedding_A.default", "model.emb.lora_embedding_B.default"], members[1]); // embedding
        Assert.Equal(["model.fc1.lora_B.default"], members[2]);                                         // groupB
        Assert.Equal(["model.fc1.base_layer.bias", "model.norm.weight", "model.norm.bias", "model.head.bias"], members[3]); // groupB_no_decay
        Assert.Equal([1e-3, 1e-6, 16e-3, 16e-3], optimizer.param_groups.Select(g => g.lr));
        Assert.Equal([0.1, 0.1, 0.1, 0.0], optimizer.param_groups.Select(g => g.options.weight_decay));
        Assert.Equal(lora.parameters().Count(p => p.requires_grad), members.Sum(m => m.Length));
    }

    [Fact]
    public void OneAdamWStepIsTheHandComputationPerGroup()
    {
        using LoraModel lora = Adapted();
        var options = new AdamWOptions { betas = (0.8, 0.9), eps = 1e-6 };
        using AdamW optimizer = LoraPlus.create_loraplus_optimizer(lora, g => new AdamW(g), options, lr: 0.01, loraplus_lr_ratio: 4,
            loraplus_lr_embedding: 0.002, loraplus_weight_decay: 0.3);
        using var scope = NewDisposeScope();
        Tensor loss = lora.call(tensor(new long[] { 1, 4, 7, 2, 0, 8 }, [2, 3])).pow(2).sum();
        loss.backward();
        var before = optimizer.param_groups.Select(g => g.@params.Select(p => (p: ToDoubles(p), g: ToDoubles(p.grad!))).ToArray()).ToArray();
        optimizer.step();

        // First AdamW step: m̂ = g, v̂ = g², so p ← p·(1 − lr·wd) − lr·g/(|g| + eps), with each group's lr and wd.
        (double lr, double wd)[] rates = [(0.01, 0.3), (0.002, 0.3), (0.04, 0.3), (0.04, 0)];
        for (int group = 0; group < 4; group++)
            for (int i = 0; i < before[group].Length; i++)
            {
                (double[] p, double[] g) = before[group][i];
                (double lr, double wd) = rates[group];
                double[] expected = p.Zip(g, (x, d) => x * (1 - lr * wd) - lr * d / (Math.Abs(d) + 1e-6)).ToArray();
                TestData.AssertClose(expected, ToDoubles(optimizer.param_groups[group].@params[i]), 1e-12);
            }
        Assert.All(before, g => Assert.NotEmpty(g));
    }

    [Fact]
    public void ABadRatioIsRefused()
    {
        using LoraModel lora = Adapted();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LoraPlus.param_groups(lora, new AdamWOptions(), 1e-3, loraplus_lr_ratio: 0));
        Assert.Contains("loraplus_lr_ratio", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LoraPlus.param_groups(lora, new AdamWOptions(), 1e-3, 2, loraplus_lr_embedding: -1));
    }
}
