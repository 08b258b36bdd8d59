using Spectre.Console;

namespace LowRankBias.Torch.Training;

/// <summary>A live Spectre.Console progress bar whose description shows the latest training record; evaluation
/// records and notes are printed above it.</summary>
internal sealed class LiveProgress(long totalSteps) : TrainingProgress
{
    private ProgressTask? _task;

    public override void Run(Action body) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(context =>
            {
                _task = context.AddTask("training", maxValue: totalSteps);
                body();
            });

    public override void Advance(long step)
    {
        if (_task is not null) _task.Value = step;
    }

    public override void Report(MetricsRecord record)
    {
        if (record.Split == "train" && _task is not null) _task.Description = Markup.Escape(MetricsText.Compact(record));
        else AnsiConsole.MarkupLine(Markup.Escape(MetricsText.Format(record)));
    }

    public override void Note(string message) => AnsiConsole.MarkupLine(Markup.Escape(message));
}
