using LowRankBias.Torch.Training;
using Spectre.Console;

namespace LowRankBias.Cli;

/// <summary>
/// A <see cref="Trainer"/>'s progress as a live Spectre.Console bar (step n/N, percentage, ETA) whose description shows
/// the latest training record; evaluation records and notes print above it.
/// </summary>
public sealed class LiveTrainingProgress : TrainingProgress
{
    private ProgressTask? _task;

    /// <summary>A live bar on an interactive terminal; null (plain lines) when the output is redirected.</summary>
    public static TrainingProgress? IfInteractive() =>
        Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive ? null : new LiveTrainingProgress();

    /// <inheritdoc />
    public override void Run(long totalSteps, Action body) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                _task = context.AddTask("training", maxValue: totalSteps);
                body();
            });

    /// <inheritdoc />
    public override void Advance(long step)
    {
        if (_task is not null) _task.Value = step;
    }

    /// <inheritdoc />
    public override void Report(MetricsRecord record)
    {
        if (record.Split == "train" && _task is not null) _task.Description = Markup.Escape(Describe(record, compact: true));
        else AnsiConsole.MarkupLine(Markup.Escape(Describe(record)));
    }

    /// <inheritdoc />
    public override void Note(string message) => AnsiConsole.MarkupLine(Markup.Escape(message));
}
