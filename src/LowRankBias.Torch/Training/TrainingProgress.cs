using Spectre.Console;

namespace LowRankBias.Torch.Training;

/// <summary>Shows a training run's progress: the step position and each logged record.</summary>
internal abstract class TrainingProgress
{
    /// <summary>The display for <paramref name="mode"/>, for a run of <paramref name="totalSteps"/> steps.</summary>
    public static TrainingProgress Create(ProgressMode mode, long totalSteps) => mode switch
    {
        ProgressMode.Live => new LiveProgress(totalSteps),
        ProgressMode.Lines => new LineProgress(Console.Out),
        ProgressMode.None => new SilentProgress(),
        _ => Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive
            ? new LineProgress(Console.Out) : new LiveProgress(totalSteps),
    };

    /// <summary>Runs the training <paramref name="body"/> with the display shown.</summary>
    public virtual void Run(Action body) => body();

    /// <summary>Moves the display to <paramref name="step"/>.</summary>
    public virtual void Advance(long step) { }

    /// <summary>Shows a logged record.</summary>
    public virtual void Report(MetricsRecord record) { }

    /// <summary>Shows a note (e.g. a saved checkpoint).</summary>
    public virtual void Note(string message) { }

    private sealed class SilentProgress : TrainingProgress;
}
