using LowRankBias.Lora;
using LowRankBias.Samples;
using LowRankBias.Torch;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using static LowRankBias.Torch.torch;

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

    // add_weighted_adapter is not in this build yet.
    public static IReadOnlyList<Combination> Combinations { get; } = [];

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
            progress.Note($"merging seed {seed}, {name,-6}: classes 0–4 {100 * r.FirstSubset:F2}%, classes 5–9 {100 * r.SecondSubset:F2}%, 10-way {100 * r.TenWay:F2}%");
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
