using LowRankBias.Lora;

namespace LoraVariants;

/// <summary>One transfer run: test accuracy at each evaluation, trainable parameters and seconds per training step.</summary>
internal sealed record TransferRun(string Method, int Seed, long Trainable, IReadOnlyList<(int Step, long Samples, double Accuracy)> Curve, double SecondsPerStep)
{
    public double Final => Curve[^1].Accuracy;
}

/// <summary>
/// The transfer task: the base pre-trained on classes 0–4 is fine-tuned on classes 5–9 (labels mapped to 0–4) with a
/// fresh 5-way head trained in full (modules_to_save) and one method's adapters on q, k, v, o, fc1, fc2.
/// </summary>
internal static class Transfer
{
    public const int FirstClass = 5, Classes = 5;

    /// <summary>
    /// Fine-tunes a fresh copy of the base at <paramref name="basePath"/> with <paramref name="method"/>. The seed draws
    /// the new head, the adapters (where the method draws them) and the data order.
    /// </summary>
    public static TransferRun Run(Method method, int seed, string basePath, long? numHeads, Preset preset, TensorDataset train, TensorDataset test, StepProgress progress)
    {
        manual_seed((ulong)seed);
        using VisionTransformer vit = Bases.Load(basePath, numHeads);
        VisionTransformer.Config c = vit.config;
        Module oldHead = vit.head;
        vit.set_submodule("head", new Linear(c.hidden_dim, Classes));
        oldHead.Dispose();
        using var model = new LoraModel(vit, method.Configure!(Method.Lora));
        (long trainable, _) = model.get_nb_trainable_parameters();

        Tensor Prepare(Tensor x) => Data.Prepare(x, c.image_size, c.in_channels);
        Tensor labels = test.tensors[1];
        var curve = new List<(int, long, double)>();
        int[] evaluateAt = Enumerable.Range(1, preset.Evaluations).Select(k => (int)Math.Round((double)k * preset.FineTuneSteps / preset.Evaluations)).Distinct().ToArray();
        double secondsPerStep = Training.Run(model, Prepare, train, preset.Batch, preset.FineTuneSteps, preset.FineTuneLr, (ulong)seed, progress, evaluateAt, step =>
        {
            using Tensor logits = Training.Logits(model, Prepare, test);
            curve.Add((step, (long)step * preset.Batch, Training.Accuracy(logits, labels)));
        });
        var run = new TransferRun(method.Name, seed, trainable, curve, secondsPerStep);
        progress.Note($"{method.Name,-6} seed {seed}: test accuracy {100 * run.Final:F2}% after {preset.FineTuneSteps} steps, " +
                      $"{trainable:N0} parameters trained, {1000 * run.SecondsPerStep:F1} ms per step");
        return run;
    }
}
