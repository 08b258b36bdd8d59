using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using static LowRankBias.Tests.Lora.LoraTestKit;
using static LowRankBias.Tests.Lte.LteTestKit;

namespace LowRankBias.Tests.Lte;

/// <summary>LTE's batched heads against independent implementations: N separate LoRA models, and multi-head LoRA.</summary>
public sealed class LteEquivalenceTests
{
    private const int Heads = 3, Rank = 2, Batch = 12;
    private const double Alpha = 4, Lr = 0.05, WeightDecay = 0.1, MaxNorm = 0.3;

    [Fact]
    public void HeadsMatchNSeparateLoraModelsWithTheirOwnAdamWClippingAndAveragedMerges()
    {
        using var scope = NewDisposeScope();
        var options = new LteOptions { Heads = Heads, Rank = Rank, Alpha = Alpha, MergeEvery = 3, Exclude = new[] { "head" }, MaxGradNorm = MaxNorm };
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), options);
        using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = Lr, weight_decay = WeightDecay }));
        var trainer = new LteTrainer(lte, adamW, Mse);

        // N separate single-head LoRA models on the same initial network, each head's A copied in, each with its own AdamW.
        var references = Enumerable.Range(0, Heads).Select(n => NewReference(lte, n)).ToArray();
        bool clipped = false;
        for (int step = 0; step < 5; step++)
        {
            (Tensor x, Tensor y) = Batch(step, Batch);
            double lteLoss = trainer.Step(x, y);
            double referenceLoss = 0;
            for (int n = 0; n < Heads; n++)
            {
                Reference r = references[n];
                r.optimizer.zero_grad();
                Tensor loss = Mse(r.model.call(x.narrow(0, n * 4, 4)), y.narrow(0, n * 4, 4));
                loss.backward();
                clipped |= ClipByHand(r.Trainable(), MaxNorm);
                r.optimizer.step();
                referenceLoss += loss.item<double>() / Heads;
            }
            Assert.Equal(referenceLoss, lteLoss, tolerance: 1e-12); // |difference| ≤ 1e-12: rounding to 12 places flaked on values straddling a rounding boundary
            if (step == 2) MergeByHand(references);
            AssertSame(lte, references, $"after step {step + 1}");
        }
        Assert.True(clipped, "the gradient bound never bit, so clipping was not tested");
        Assert.Equal(1, trainer.Merges);
        Assert.Equal(5, trainer.Iteration);
    }

    [Fact]
    public void CorrectionModeMergingEveryStepWithSameDataReproducesMultiHeadLora()
    {
        using var scope = NewDisposeScope();
        var options = new LteOptions
        {
            Heads = Heads, Rank = Rank, Alpha = Alpha, MergeEvery = 1, MergeMode = LteMergeMode.Correction,
            Sampling = HeadSampling.Same, NonLowRank = LteNonLowRank.Frozen,
        };
        using var lte = new LowRankBias.Lte.Lte(new Mlp(1), options);
        var mhModel = new LoraModel(new Mlp(1), new LoraConfig
        {
            r = Rank, lora_alpha = Alpha, num_heads = Heads, head_input = HeadInput.Shared, target_modules = "all-linear",
        });
        using var mh = mhModel;
        foreach ((string path, LoraLayer layer) in mh.lora_layers()) Fill(layer.lora_A["default"], LoraAt(lte, path).lora_A["default"]);

        // Head n's LTE gradient is s·G(Aₙx)ᵀ, multi-head LoRA's (s/N)·G(Aₙx)ᵀ: SGD with N times the rate moves both alike.
        using var sgdLte = new SGD(lte.head_parameters(), lr: 0.02, momentum: 0.9);
        using var sgdMh = new SGD(mh.parameters().Where(p => p.requires_grad), lr: 0.02 * Heads, momentum: 0.9);
        var trainer = new LteTrainer(lte, sgdLte, Mse);
        for (int step = 0; step < 6; step++)
        {
            (Tensor x, Tensor y) = Batch(step, 5);
            double lteLoss = trainer.Step(x, y);
            sgdMh.zero_grad();
            Tensor loss = Mse(mh.call(x), y);
            loss.backward();
            sgdMh.step();
            Assert.Equal(loss.item<double>(), lteLoss, tolerance: 1e-12);
        }
        foreach ((string path, LoraLayer layer) in mh.lora_layers())
        {
            MultiHeadLoraLinear heads = LoraAt(lte, path);
            AssertRelative(layer.lora_A["default"], heads.lora_A["default"], 1e-12, path + " A");
            AssertRelative(layer.lora_B["default"], heads.lora_B["default"], 1e-12, path + " B");
            Tensor mhWeight = layer.weight + layer.get_delta_weight("default");
            Tensor lteWeight = heads.weight + lte.weight_update(path);
            AssertRelative(mhWeight, lteWeight, 1e-12, path + " effective weight");
        }
        // Evaluation runs the current merged model, here multi-head LoRA's.
        (Tensor xt, _) = Batch(99, 7);
        lte.eval();
        mh.eval();
        AssertRelative(mh.call(xt), lte.call(xt), 1e-12, "evaluation output");
    }

    private sealed record Reference(LoraModel model, AdamW optimizer)
    {
        public IEnumerable<Tensor> Trainable() => model.parameters().Where(p => p.requires_grad);
    }

    // Copies of the initial network with a single LoRA head n on fc1, trainable fc1 bias and head (the replicas).
    private static Reference NewReference(LowRankBias.Lte.Lte lte, int n)
    {
        var model = new LoraModel(new Mlp(1), new LoraConfig
        {
            r = Rank, lora_alpha = Alpha, target_modules = new[] { "fc1" }, modules_to_save = ["head"], bias = LoraBias.LoraOnly,
        });
        var lora = (LoraLayer)model.model.get_submodule("fc1");
        Fill(lora.lora_A["default"], Head(LoraAt(lte, "fc1").lora_A["default"], n));
        Tensor[] factors = [lora.lora_A["default"], lora.lora_B["default"]];
        Tensor[] replicas = model.parameters().Where(p => p.requires_grad && !factors.Contains(p)).ToArray();
        Assert.Equal(3, replicas.Length);
        var optimizer = new AdamW([
            new ParamGroup(factors, new AdamWOptions { lr = Lr, weight_decay = WeightDecay }),
            new ParamGroup(replicas, new AdamWOptions { lr = Lr, weight_decay = 0 }),
        ]);
        return new Reference(model, optimizer);
    }

    // clip_grad_norm_ written out in float64: scale every gradient by max / (‖g‖ + 1e-6) when that is below 1.
    private static bool ClipByHand(IEnumerable<Tensor> parameters, double max)
    {
        Tensor[] grads = parameters.Select(p => p.grad!).ToArray();
        double norm = Math.Sqrt(grads.Sum(g => ToDoubles(g).Sum(v => v * v)));
        double coefficient = max / (norm + 1e-6);
        if (coefficient >= 1) return false;
        using var noGrad = no_grad();
        foreach (Tensor g in grads) g.mul_(coefficient);
        return true;
    }

    // The paper's merge written out: W ← W + (1/N) Σ s·BₙAₙ, B ← 0, replicas ← their mean; optimizer state kept.
    private static void MergeByHand(Reference[] references)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        LoraLayer[] layers = references.Select(r => (LoraLayer)r.model.model.get_submodule("fc1")).ToArray();
        double s = Alpha / Rank;
        Tensor update = layers.Select(l => l.lora_B["default"].mm(l.lora_A["default"]) * (s / Heads)).Aggregate((a, b) => a + b);
        Tensor weight = layers[0].weight + update;
        Tensor bias = layers.Select(l => ((Linear)l.base_layer).bias!).Aggregate((a, b) => a + b) / Heads;
        Linear[] heads = references.Select(r => BaseLinear(r.model.model, "head")).ToArray();
        Tensor headWeight = heads.Select(h => h.weight).Aggregate((a, b) => a + b) / Heads;
        Tensor headBias = heads.Select(h => h.bias!).Aggregate((a, b) => a + b) / Heads;
        for (int n = 0; n < Heads; n++)
        {
            layers[n].weight.copy_(weight);
            layers[n].lora_B["default"].zero_();
            ((Linear)layers[n].base_layer).bias!.copy_(bias);
            heads[n].weight.copy_(headWeight);
            heads[n].bias!.copy_(headBias);
        }
    }

    private static void AssertSame(LowRankBias.Lte.Lte lte, Reference[] references, string when)
    {
        MultiHeadLoraLinear fc1 = LoraAt(lte, "fc1");
        for (int n = 0; n < Heads; n++)
        {
            LoraModel r = references[n].model;
            var lora = (LoraLayer)r.model.get_submodule("fc1");
            AssertRelative(lora.lora_A["default"], Head(fc1.lora_A["default"], n), 1e-12, $"{when}: A of head {n}");
            if (ToDoubles(lora.lora_B["default"]).Any(v => v != 0))
                AssertRelative(lora.lora_B["default"], Head(fc1.lora_B["default"], n), 1e-12, $"{when}: B of head {n}");
            else Assert.All(ToDoubles(Head(fc1.lora_B["default"], n)), v => Assert.Equal(0.0, v));
            AssertRelative(lora.weight, fc1.weight, 1e-12, $"{when}: merged fc1 weight");
            AssertRelative(((Linear)lora.base_layer).bias!, lte.replica("fc1.bias", n), 1e-12, $"{when}: fc1 bias replica {n}");
            Linear head = BaseLinear(r.model, "head");
            AssertRelative(head.weight, lte.replica("head.weight", n), 1e-12, $"{when}: head weight replica {n}");
            AssertRelative(head.bias!, lte.replica("head.bias", n), 1e-12, $"{when}: head bias replica {n}");
        }
    }
}
