// LTE beyond the ViT (LTE paper appendix D.3 and D.4): an MLP-Mixer on Fashion-MNIST and a character-level GPT on
// Shakespeare, each pre-trained from scratch full-rank and with LTE (N heads of rank r merged every T steps, the
// paper's α = 4096 and 0.1× learning rate), on the same data stream; LTE may see twice the cumulative samples, as the
// paper allows. Writes curves (CSV, SVG) and a table.
using LteArchitectures;

var cli = new ProgramCommand("lte-architectures", "LTE beyond the ViT (LTE paper appendix D.3, D.4): an MLP-Mixer on Fashion-MNIST and a character-level GPT on Shakespeare, full rank vs LTE.");
var whichArgument = cli.Positional("experiment", "all", "which model", "mixer", "gpt", "all");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (seconds, for CI), quick (about 25 minutes on 2 cores), paper (Mixer-T and the 6-layer GPT, for a GPU)", "tiny", "quick", "paper");
var textOption = cli.Optional<string>("--text", "the Shakespeare text for the GPT [default: ../shared/data/tinyshakespeare.txt beside the repository]", "FILE");
var parsed = cli.Parse(args);
string which = parsed.GetValue(whichArgument)!;
string presetName = parsed.GetValue(presetOption)!;
var preset = Preset.Parse(presetName);
string output = cli.Output(parsed, presetName);

var rows = new CsvTable("task", "method", "step", "samples", "train_loss", "eval_loss", "eval_accuracy");
var summary = new SummaryTable("task", "method", "cumulative samples", "eval loss", "eval accuracy");
foreach (Experiment task in Experiment.Create(which, preset, parsed.GetValue(textOption)))
{
    using (task)
    {
        Console.WriteLine($"{task.Name}: {task.Description}; batch {preset.Batch}, full rank {preset.Steps:N0} steps at lr {preset.FullRankLr:G2}, " +
                          $"LTE {preset.Heads} heads of rank {preset.Rank}, T = {preset.MergeEvery}, {preset.LteStepFactor * preset.Steps:N0} steps");
        var curves = new List<ChartSeries>();
        foreach (string method in new[] { "full rank", "LTE" })
        {
            using Learner learner = method == "LTE" ? Learner.Lte(task, preset) : Learner.FullRank(task, preset);
            int steps = method == "LTE" ? preset.LteStepFactor * preset.Steps : preset.Steps;
            var curve = new List<(double, double)>();
            (double loss, double accuracy) last = default;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double trainLoss = double.NaN;
            for (int step = 1; step <= steps; step++)
            {
                trainLoss = learner.Step(task.NextBatch());
                if (step % preset.EvaluateEvery != 0 && step != steps) continue;
                last = task.Evaluate(learner.Evaluated);
                long samples = (long)step * preset.Batch;
                curve.Add((samples, last.loss));
                rows.Add(task.Name, method, step, samples, trainLoss, last.loss, last.accuracy);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{task.Name} {method}: step {step,6:N0}  train loss {trainLoss:F4}  eval loss {last.loss:F4}  eval accuracy {last.accuracy:P1}  ({clock.Elapsed.TotalSeconds:F0} s)"));
            }
            curves.Add(new ChartSeries(method, curve));
            summary.AddRow(task.Name, method, ((long)steps * preset.Batch).ToString("N0", CultureInfo.InvariantCulture),
                last.loss.ToString("F4", CultureInfo.InvariantCulture), last.accuracy.ToString("P1", CultureInfo.InvariantCulture));
            task.Rewind();
        }
        new LineChart
        {
            Title = $"{task.Name}: {task.EvalLossName}", XLabel = "cumulative training samples", YLabel = task.EvalLossName,
        }.Save(Path.Combine(output, $"{task.Name}.svg"), curves);
    }
}
rows.Save(Path.Combine(output, "curves.csv"));
summary.Write(Path.Combine(output, "summary.md"));
Console.WriteLine($"wrote curves.csv, summary.md and one PNG and SVG per task to {Path.GetFullPath(output)}");
