namespace LowRankBias.Torch.Training;

/// <summary>How a <see cref="Trainer"/> shows progress.</summary>
public enum ProgressMode
{
    /// <summary>The <see cref="TrainerOptions.Display"/> a program supplies (e.g. a live progress bar), else plain lines.</summary>
    Auto,
    /// <summary>One plain line per logged record.</summary>
    Lines,
    /// <summary>Nothing.</summary>
    None,
}
