using LowRankBias.Lora;

namespace LoraVariants;

/// <summary>One model of the merging example on the test images: accuracy on each class subset (argmax among its 5
/// classes) and the plain 10-way accuracy.</summary>
internal sealed record MergeResult(int Seed, string Model, double FirstSubset, double SecondSubset, double TenWay);

/// <summary>
/// Adapter merging: on a base pre-trained on all 10 classes (head frozen), adapter "first" learns classes 0–4 and
/// "second" classes 5–9 (10-way labels); they are combined with add_weighted_adapter, weights [1, 1].
/// </summary>
internal static class Merging
{
    /// <summary>A combination: the new adapter's name and how add_weighted_adapter makes it.</summary>
    public sealed record Combination(string Name, string Description, Action<LoraModel, string> Add);

    private static readonly string[] s_adapters = ["first", "second"];
    private static readonly double[] s_weights = [1, 1];

    /// <summary>PEFT's rules (s = α/r = 2 for both adapters; see <see cref="LoraModel.add_weighted_adapter"/>).</summary>
    public static IReadOnlyList<Combination> Combinations { get; } =
    [
        new("linear", "linear (A and B each summed with weights √(wᵢsᵢ), rank 8: ΔW₁ + ΔW₂ plus the cross terms s(B₁A₂ + B₂A₁))",
            (m, name) => m.add_weighted_adapter(s_adapters, s_weights, name, combination_type: "linear")),
        new("cat", "cat (A and B stacked, rank 16: exactly ΔW₁ + ΔW₂)",
            (m, name) => m.add_weighted_adapter(s_adapters, s_weights, name, combination_type: "cat")),
        new("ties", "ties with density 0.5 (on A and B like linear, each trimmed to its largest half, signs elected by total, rank 8)",
            (m, name) => m.add_weighted_adapter(s_adapters, s_weights, name, combination_type: "ties", density: 0.5)),
        new("svd", "svd with rank 16 = 8 + 8 (the SVD of Σ wᵢsᵢΔWᵢ = 2(ΔW₁ + ΔW₂): PEFT weights the ΔWᵢ, which carry sᵢ, by wᵢsᵢ)",
            (m, name) => m.add_weighted_adapter(s_adapters, s_weights, name, combination_type: "svd", svd_rank: 16)),
        // The check on svd's rule: weights 1/s give the SVD of ΔW₁ + ΔW₂ itself, which rank 16 holds exactly (as cat).
        new("svd_half", "and, to check svd's rule, svd with rank 16 and weights [0.5, 0.5] = 1/s (the SVD of ΔW₁ + ΔW₂ itself, which rank 16 holds exactly, like cat)",
            (m, name) => m.add_weighted_adapter(s_adapters, [0.5, 0.5], name, combination_type: "svd", svd_rank: 16)),
    ];

    public static LoraConfig Config => Method.Lora with { modules_to_save = null };

    public static IEnumerable<string> Models => new[] { "base", "first", "second" }.Concat(Combinations.Select(c => c.Name));

    public static IReadOnlyList<MergeResult> Run(int seed, string basePath, Preset preset, TensorDataset train, TensorDataset test, StepProgress progress)
    {
        using VisionTransformer vit = Bases.Load(basePath, Preset.Model.num_heads);
        VisionTransformer.Config c = vit.config;
        Tensor Prepare(Tensor x) => Data.Prepare(x, c.image_size, c.in_channels);
        manual_seed((ulong)seed);
        using var model = new LoraModel(vit, Config, "first");
        model.add_adapter("second", Config);
        foreach ((string name, int first) in new[] { ("first", 0), ("second", 5) })
        {
            model.set_adapter(name);
            using TensorDataset data = Data.Classes(train, first, 5, relabel: false);
            Training.Run(model, Prepare, data, preset.Batch, preset.AdapterSteps, preset.FineTuneLr, (ulong)(100 * seed + first), progress);
        }

        var results = new List<MergeResult>();
        void Evaluate(string name)
        {
            using Tensor logits = Training.Logits(model, Prepare, test);
            Tensor labels = test.tensors[1];
            var r = new MergeResult(seed, name, Training.Accuracy(logits, labels, 0, 5), Training.Accuracy(logits, labels, 5, 5), Training.Accuracy(logits, labels));
            results.Add(r);
            progress.Note($"merging seed {seed}, {name,-8}: classes 0–4 {100 * r.FirstSubset:F2}%, classes 5–9 {100 * r.SecondSubset:F2}%, 10-way {100 * r.TenWay:F2}%");
        }
        model.disable_adapters();
        Evaluate("base");
        model.enable_adapters();
        foreach (string name in new[] { "first", "second" })
        {
            model.set_adapter(name);
            Evaluate(name);
        }
        foreach (Combination combination in Combinations)
        {
            combination.Add(model, combination.Name);
            model.set_adapter(combination.Name);
            Evaluate(combination.Name);
        }
        return results;
    }
}
