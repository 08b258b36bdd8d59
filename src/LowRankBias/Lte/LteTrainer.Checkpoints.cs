using System.Globalization;
using LowRankBias.Torch.Training;

namespace LowRankBias.Lte;

public sealed partial class LteTrainer
{
    private const string MergesKey = "lte.merges";

    /// <summary>
    /// Everything needed to continue exactly from here, also in the middle of a merge cycle: the model (main weights,
    /// every head's factors, replica offsets and correction terms), the heads' optimizer state, the scheduler, the CPU
    /// generator (which re-draws heads at merges) and the iteration and merge counts. The caller adds data-loader
    /// positions and saves it (<see cref="Checkpoint.Save"/>, atomic); the caller owns it.
    /// </summary>
    public Checkpoint Capture()
    {
        Checkpoint checkpoint = Checkpoint.Capture(model, optimizer, scheduler);
        checkpoint.Step = Iteration;
        checkpoint.Metadata[MergesKey] = Merges.ToString(CultureInfo.InvariantCulture);
        return checkpoint;
    }

    /// <summary>
    /// Puts this trainer, its model, optimizer and scheduler back where <paramref name="checkpoint"/> was captured; the
    /// next <see cref="Step"/> continues bit-identically on the CPU. A checkpoint of another configuration is refused
    /// with an <see cref="InvalidDataException"/> naming what does not fit.
    /// </summary>
    public void Restore(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!checkpoint.Metadata.TryGetValue(MergesKey, out string? text)
            || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long merges))
            throw new InvalidDataException($"checkpoint {checkpoint.Path ?? "(in memory)"} was not captured by an LteTrainer: it has no valid '{MergesKey}'");
        checkpoint.Restore(model, optimizer, scheduler);
        Iteration = checkpoint.Step;
        Merges = merges;
    }
}
