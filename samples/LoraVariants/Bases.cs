namespace LoraVariants;

/// <summary>The pre-trained bases: a ViT trained in full on a class subset, saved as a torchvision .pt and reused when present.</summary>
internal static class Bases
{
    /// <summary>Where the base trained on classes [first, first + count) for <paramref name="preset"/>'s budget lives.</summary>
    public static string PathFor(string output, Preset preset, int first, int count) =>
        Path.Combine(output, $"base-classes-{first}-{first + count - 1}-{preset.PretrainSteps}-steps.pt");

    /// <summary>
    /// Trains the base on classes [first, first + count) of <paramref name="train"/> (labels 0 … count − 1) with seed 0 and
    /// saves it at <paramref name="path"/>, unless that file exists.
    /// </summary>
    public static void Ensure(string path, Preset preset, TensorDataset train, int first, int count, StepProgress progress)
    {
        if (File.Exists(path))
        {
            progress.Note($"reusing the base {path}");
            return;
        }
        manual_seed(0);
        using TensorDataset data = Data.Classes(train, first, count, relabel: true);
        using var vit = new VisionTransformer(Preset.Model with { num_classes = count });
        VisionTransformer.Config c = vit.config;
        progress.Note($"pre-training the base on classes {first}–{first + count - 1} ({data.Count:N0} images): {preset.PretrainSteps} steps of {preset.Batch}, AdamW lr {preset.PretrainLr}");
        double secondsPerStep = Training.Run(vit, x => Data.Prepare(x, c.image_size, c.in_channels), data, preset.Batch, preset.PretrainSteps, preset.PretrainLr, 0, progress);
        vit.save_pretrained(path, VitLayout.Torchvision);
        progress.Note($"saved {path} ({1000 * secondsPerStep:F0} ms per step)");
    }

    /// <summary>Steps <see cref="Ensure"/> will train: none when the file exists.</summary>
    public static int StepsToTrain(string path, Preset preset) => File.Exists(path) ? 0 : preset.PretrainSteps;

    /// <summary>Loads a torchvision-layout base (the sample's own need <paramref name="numHeads"/> = 4: no shape holds the head count).</summary>
    public static VisionTransformer Load(string path, long? numHeads)
    {
        VisionTransformer vit = VisionTransformer.from_pretrained(path, VitLayout.Torchvision, numHeads);
        long size = vit.config.image_size;
        if (size < 28)
        {
            vit.Dispose();
            throw new ArgumentException($"{path}: image size {size} is below Fashion-MNIST's 28");
        }
        return vit;
    }
}
