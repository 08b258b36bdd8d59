/// <summary>Renders a run's metrics.csv (written by the Trainer) as loss and accuracy curves against the epoch (train: the
/// mean over each logging window; test: each evaluation).</summary>
internal static class TrainingCurves
{
    public static void Render(string runDirectory, string title)
    {
        string[] lines = File.ReadAllLines(Path.Combine(runDirectory, "metrics.csv"));
        string[] header = lines[0].Split(',');
        int Column(string name) => Array.IndexOf(header, name);
        int step = Column("step"), split = Column("split"), loss = Column("loss"), accuracy = Column("accuracy");
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        double stepsPerEpoch = rows.Where(r => r[split] == "test").Select(r => double.Parse(r[step], CultureInfo.InvariantCulture)).DefaultIfEmpty(1).Min();

        ChartSeries Series(string label, string which, int column, double scale) => new(label, rows
            .Where(r => r[split] == which && r[column].Length > 0)
            .Select(r => (double.Parse(r[step], CultureInfo.InvariantCulture) / stepsPerEpoch, scale * double.Parse(r[column], CultureInfo.InvariantCulture)))
            .ToArray());

        new LineChart { Title = $"{title}: cross-entropy", XLabel = "epoch", YLabel = "loss", LogY = true }
            .Save(Path.Combine(runDirectory, "loss.svg"), [Series("train", "train", loss, 1), Series("test", "test", loss, 1)]);
        new LineChart { Title = $"{title}: accuracy", XLabel = "epoch", YLabel = "accuracy (%)" }
            .Save(Path.Combine(runDirectory, "accuracy.svg"), [Series("train", "train", accuracy, 100), Series("test", "test", accuracy, 100)]);
    }
}
