// LTE beyond the ViT (LTE paper appendix D.3 and D.4): an MLP-Mixer on Fashion-MNIST and a character-level GPT on
// Shakespeare, each pre-trained from scratch full-rank and with LTE (N heads of rank r merged every T steps, the
// paper's α = 4096 and 0.1× learning rate), on the same data stream; LTE may see twice the cumulative samples, as the
// paper allows. Writes curves (CSV, SVG) and a table.
// Usage: LteArchitectures [mixer|gpt|all] [--preset tiny|quick|paper] [--out DIR] [--text tinyshakespeare.txt]
using System.Globalization;
using LteArchitectures;
using LowRankBias.Plotting;

string which = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
if (which is not ("mixer" or "gpt" or "all")) throw new ArgumentException($"unknown experiment '{which}': use mixer, gpt or all");
string presetName = Option("--preset") ?? "quick";
var preset = Preset.Parse(presetName);
string output = Option("--out") ?? Path.Combine("out", "lte-architectures", presetName);
Directory.CreateDirectory(output);

var rows = new List<string> { "task,method,step,samples,train_loss,eval_loss,eval_accuracy" };
var summary = new SummaryTable("task", "method", "cumulative samples", "eval loss", "eval accuracy");
foreach (Experiment task in Experiment.Create(which, preset, Option("--text")))
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
                rows.Add(string.Create(CultureInfo.InvariantCulture, $"{task.Name},{method},{step},{samples},{trainLoss:R},{last.loss:R},{last.accuracy:R}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{task.Name} {method}: step {step,6:N0}  train loss {trainLoss:F4}  eval loss {last.loss:F4}  eval accuracy {last.accuracy:P1}  ({clock.Elapsed.TotalSeconds:F0} s)"));
            }
            curves.Add(new ChartSeries(method, curve));
            summary.AddRow(task.Name, method, ((long)steps * preset.Batch).ToString("N0", CultureInfo.InvariantCulture),
                last.loss.ToString("F4", CultureInfo.InvariantCulture), last.accuracy.ToString("P1", CultureInfo.InvariantCulture));
            task.Rewind();
        }
        File.WriteAllText(Path.Combine(output, $"{task.Name}.svg"), new SvgLineChart
        {
            Title = $"{task.Name}: {task.EvalLossName}", XLabel = "cumulative training samples", YLabel = task.EvalLossName,
        }.Render(curves));
    }
}
File.WriteAllLines(Path.Combine(output, "curves.csv"), rows);
summary.Write(Path.Combine(output, "summary.md"));
Console.WriteLine($"wrote curves.csv, summary.md and one SVG per task to {Path.GetFullPath(output)}");

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
