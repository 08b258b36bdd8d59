namespace LowRankBias.Torch.Data;

/// <summary>A loader's position, saved in checkpoints so that a resumed run yields exactly the batches an uninterrupted one would.</summary>
/// <param name="Epoch">The epoch the next batch belongs to.</param>
/// <param name="Index">How many batches of that epoch have been handed out.</param>
/// <param name="Seed">The seed every shuffle is derived from.</param>
public readonly record struct DataLoaderState(long Epoch, long Index, ulong Seed);
