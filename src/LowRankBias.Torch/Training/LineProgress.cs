namespace LowRankBias.Torch.Training;

/// <summary>Plain periodic lines, for logs that are not a terminal: one line per logged record and per note.</summary>
internal sealed class LineProgress(TextWriter output) : TrainingProgress
{
    public override void Report(MetricsRecord record) => output.WriteLine(MetricsText.Format(record));

    public override void Note(string message) => output.WriteLine(message);
}
