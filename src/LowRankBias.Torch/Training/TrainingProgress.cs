namespace LowRankBias.Torch.Training;

/// <summary>
/// Shows a training run's progress: the step position and each logged record. The engine draws nothing itself but
/// plain lines; a program that wants a live display (a terminal progress bar, a notebook widget) derives from this
/// class and passes it as <see cref="TrainerOptions.Display"/>.
/// </summary>
public abstract class TrainingProgress
{
    /// <summary>The display for <paramref name="mode"/>: <paramref name="display"/> under <see cref="ProgressMode.Auto"/> when given, else plain lines.</summary>
    internal static TrainingProgress Create(ProgressMode mode, TrainingProgress? display) => mode switch
    {
        ProgressMode.Lines => new LineProgress(Console.Out),
        ProgressMode.None => new SilentProgress(),
        _ => display ?? new LineProgress(Console.Out),
    };

    /// <summary>Runs the training <paramref name="body"/> of <paramref name="totalSteps"/> steps with the display shown.</summary>
    public virtual void Run(long totalSteps, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        body();
    }

    /// <summary>Moves the display to <paramref name="step"/>.</summary>
    public virtual void Advance(long step) { }

    /// <summary>Shows a logged record.</summary>
    public virtual void Report(MetricsRecord record) { }

    /// <summary>Shows a note (e.g. a saved checkpoint).</summary>
    public virtual void Note(string message) { }

    /// <summary>A record as one line of text (<paramref name="compact"/>: the short form for beside a progress bar, which shows the step already).</summary>
    public static string Describe(MetricsRecord record, bool compact = false)
    {
        ArgumentNullException.ThrowIfNull(record);
        return compact ? MetricsText.Compact(record) : MetricsText.Format(record);
    }

    private sealed class SilentProgress : TrainingProgress;
}
