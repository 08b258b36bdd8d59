using System.Diagnostics;
using Spectre.Console;

namespace LowRankBias.Cli;

/// <summary>
/// One progress display over a whole program's steps: "step n/N" with the elapsed time and an ETA from the average
/// pace so far. On an interactive terminal a live Spectre.Console bar (messages print above it); when the output is
/// redirected (CI logs, files) a plain line at every tenth of the work, so logs stay readable.
/// </summary>
public sealed class StepProgress
{
    private readonly string _name;
    private readonly long _total;
    private readonly Stopwatch _clock = new();
    private ProgressTask? _task;
    private long _done;
    private int _linesShown;

    /// <param name="name">What is being done, shown before the count.</param>
    /// <param name="totalSteps">How many steps make the whole (at least 1).</param>
    public StepProgress(string name, long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        _name = name;
        _total = totalSteps;
    }

    /// <summary>Runs <paramref name="body"/> with the display shown.</summary>
    public void Run(Action body)
    {
        _clock.Start();
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            body();
            return;
        }
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                _task = context.AddTask(Describe(), maxValue: _total);
                body();
            });
    }

    /// <summary>Counts one finished step.</summary>
    public void Step()
    {
        _done++;
        if (_task is not null)
        {
            _task.Value = _done;
            _task.Description = Describe();
        }
        else if (_done * 10 / _total > _linesShown || _done == _total)
        {
            _linesShown = (int)(_done * 10 / _total);
            Console.WriteLine(Describe());
        }
    }

    /// <summary>Prints a message without breaking the display.</summary>
    public void Note(string message)
    {
        if (_task is not null) AnsiConsole.MarkupLine(Markup.Escape(message));
        else Console.WriteLine(message);
    }

    private string Describe()
    {
        TimeSpan elapsed = _clock.Elapsed;
        string eta = _done == 0 ? "?" : Format(elapsed * ((double)(_total - _done) / _done));
        return $"{_name}: step {_done:N0}/{_total:N0}, {Format(elapsed)} elapsed, ETA {eta}";
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss");
}
