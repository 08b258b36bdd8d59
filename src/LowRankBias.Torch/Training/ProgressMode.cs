namespace LowRankBias.Torch.Training;

/// <summary>How a <see cref="Trainer"/> shows progress.</summary>
public enum ProgressMode
{
    /// <summary>A live progress bar on an interactive terminal, plain lines when the output is redirected (CI logs).</summary>
    Auto,
    /// <summary>A live Spectre.Console progress bar with loss, accuracy and throughput.</summary>
    Live,
    /// <summary>One plain line per logged record.</summary>
    Lines,
    /// <summary>Nothing.</summary>
    None,
}
