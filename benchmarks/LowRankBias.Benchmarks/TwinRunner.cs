using System.Globalization;
using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Optim;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// Our half of benchmarks/compare/twin.sh: trains a workload and writes what a PyTorch twin needs to train the same
/// thing — the initial weights (<c>init.safetensors</c>), the data in the order it is used (<c>data.safetensors</c>) —
/// and our loss after every step (<c>ours.csv</c>). twin_pytorch.py then trains from those files and compares losses.
/// "grokking": the Grokking sample's setting (Nanda et al.: one-layer transformer, p = 113, 30 % of the pairs, full
/// batch, AdamW lr 1e-3, betas (0.9, 0.98), weight decay 1, cross-entropy on the answer token taken in float64).
/// "vit-tiny-lte": LTE on ViT-Tiny as the VitPretraining sample runs it (4 heads of rank 16 on every Linear but the
/// classifier, α 4096, merge every 10 steps, averaged replicas of the other parameters, AdamW weight decay 0.05 on the
/// factors and 0 on the replicas) at a constant lr 1e-4, on the first 128-image batches of Fashion-MNIST's training split.
/// TWIN_DTYPE=float64 trains in float64 on both sides.
/// </summary>
public static class TwinRunner
{
    /// <summary>Runs <paramref name="workload"/> for <paramref name="steps"/> steps, writing into <paramref name="directory"/>;
    /// <paramref name="steps"/> 0 takes the workload's default (grokking 200, vit-tiny-lte 50).</summary>
    public static void Run(string workload, string directory, int steps)
    {
        Directory.CreateDirectory(directory);
        manual_seed(0);
        double[] losses = workload switch
        {
            "grokking" => Grokking(directory, steps > 0 ? steps : 200),
            "vit-tiny-lte" => VitTinyLte(directory, steps > 0 ? steps : 50),
            _ => throw new ArgumentException($"unknown twin workload '{workload}': expected grokking or vit-tiny-lte", nameof(workload)),
        };
        File.WriteAllLines(Path.Combine(directory, "ours.csv"),
            ["step,loss", .. losses.Select((l, i) => string.Create(CultureInfo.InvariantCulture, $"{i + 1},{l:R}"))]);
    }

    private static double[] Grokking(string directory, int steps)
    {
        using var task = new ModularAddition(113, 0.3, seed: 0);
        using var model = new ModularAdditionTransformer(ModularAdditionTransformer.Config.Nanda, dtype: TwinDtype());
        using (DisposeScope scope = NewDisposeScope())
        {
            SafeTensors.save_file(model.state_dict(), Path.Combine(directory, "init.safetensors"));
            SafeTensors.save_file(new Dictionary<string, Tensor> { ["x"] = task.Train.tensors[0], ["y"] = task.Train.tensors[1] },
                Path.Combine(directory, "data.safetensors"));
        }
        using var optimizer = new AdamW(model.parameters(), lr: 1e-3, betas: (0.9, 0.98), weight_decay: 1.0);
        var losses = new double[steps];
        for (int step = 0; step < steps; step++)
        {
            using DisposeScope scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(model.call(task.Train.tensors[0]).to(ScalarType.Float64), task.Train.tensors[1]);
            loss.backward();
            optimizer.step();
            losses[step] = loss.item<double>();
        }
        return losses;
    }

    private static double[] VitTinyLte(string directory, int steps)
    {
        const int batch = 128;
        ScalarType dtype = TwinDtype();
        using var vit = new VisionTransformer(VisionTransformer.Config.ViT_Tiny, dtype: dtype);
        using var lte = new Lte.Lte(vit, new LteOptions { Heads = 4, Rank = 16, Alpha = 4096, MergeEvery = 10, Exclude = "head" });
        using TensorDataset train = FashionMnist.Load(train: true);
        using Tensor images = train.tensors[0].narrow(0, 0, steps * batch).to(dtype), labels = train.tensors[1].narrow(0, 0, steps * batch);
        using (DisposeScope scope = NewDisposeScope())
        {
            SafeTensors.save_file(InitialState(lte), Path.Combine(directory, "init.safetensors"));
            SafeTensors.save_file(new Dictionary<string, Tensor> { ["x"] = images, ["y"] = labels }, Path.Combine(directory, "data.safetensors"));
        }
        using var optimizer = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 1e-4, weight_decay = 0.05 }));
        var trainer = new LteTrainer(lte, optimizer, (output, target) => nn.functional.cross_entropy(output, target));
        lte.train();
        var losses = new double[steps];
        for (int step = 0; step < steps; step++)
        {
            using DisposeScope scope = NewDisposeScope();
            losses[step] = trainer.Step(images.narrow(0, step * batch, batch), labels.narrow(0, step * batch, batch));
        }
        return losses;
    }

    // The LTE model's starting point under the plain ViT's parameter names (e.g. "blocks.0.mlp.fc1.weight"):
    // "<name>" the shared value of every parameter (a targeted Linear's frozen base weight W included), and for each
    // targeted Linear "<layer>.lora_A" [N, r, in] and "<layer>.lora_B" [N, out, r]. Every replica starts at its
    // shared value (our per-head offsets are zero), so the replicas need no entries.
    private static Dictionary<string, Tensor> InitialState(Lte.Lte lte)
    {
        var state = new Dictionary<string, Tensor>();
        foreach ((string path, LoraLayer layer) in lte.lora_layers())
        {
            state[$"{path}.lora_A"] = layer.lora_A["default"];
            state[$"{path}.lora_B"] = layer.lora_B["default"];
        }
        foreach ((string name, Tensor value) in lte.model.named_parameters())
            if (!name.Contains("lora_")) state[name.Replace(".base_layer.", ".")] = value;
        return state;
    }

    // TWIN_DTYPE=float64 separates a real difference (it stays) from float32 rounding amplified by Adam (it goes).
    private static ScalarType TwinDtype() =>
        Environment.GetEnvironmentVariable("TWIN_DTYPE") == "float64" ? ScalarType.Float64 : ScalarType.Float32;
}
