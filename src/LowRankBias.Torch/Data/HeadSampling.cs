namespace LowRankBias.Torch.Data;

/// <summary>How a <see cref="MultiHeadDataLoader"/> gives each of its heads (e.g. LoRA heads in LTE) mini-batches.</summary>
public enum HeadSampling
{
    /// <summary>One stream draws a cumulative batch of heads × batch_size samples and splits it into one group per head (LTE's fixed cumulative batch).</summary>
    Split,
    /// <summary>Each head has its own stream with its own shuffle of the whole dataset.</summary>
    Independent,
    /// <summary>Every head gets the same batch (the same tensor objects).</summary>
    Same,
}
