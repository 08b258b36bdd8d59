// LTE paper appendix A.2 / figure 8: a 32×32 linear model trained through one rank-4 LoRA head on least squares
// with a full-rank target. Without merging the loss plateaus at the best rank-4 fit; merging every T steps (B reset,
// A redrawn as in the appendix, optimizer state cleared) recovers the full-rank solution, faster for smaller T.
// Writes the curves to CSV and a plot.
using LowRankBias.Lte;
using F = LowRankBias.Torch.torch.nn.functional;

var cli = new ProgramCommand("least-squares-merge", "LTE paper appendix A.2 / figure 8: a 32x32 linear model trained through one rank-4 LoRA head on least squares with a full-rank target, merged every T steps or never.");
var presetOption = cli.Choice("--preset", "quick", "budget: tiny (30 steps, for CI), quick (1,500 steps, the recorded run), paper (5,000 steps)", "tiny", "quick", "paper");
var parsed = cli.Parse(args);
string presetName = parsed.GetValue(presetOption)!;
int steps = presetName switch
{
    "tiny" => 30,
    "quick" => 1500,
    "paper" => 5000,
    _ => throw new ArgumentException($"unknown preset '{presetName}': use tiny, quick or paper"),
};
string output = cli.Output(parsed, presetName);
int[] periods = [0, 200, 50, 10];

using var task = new LowRankRegression(32, 32, rank: 32, seed: 7);
using TensorDataset data = task.Sample(512, seed: 1);
Tensor x = data.tensors[0], y = data.tensors[1];

var curves = new List<ChartSeries>();
foreach (int period in periods)
{
    double[] losses = Run(period);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"T = {(period == 0 ? "never" : period.ToString(CultureInfo.InvariantCulture)),5}: loss/initial after {steps} steps = {losses[^1] / losses[0]:E2}"));
    curves.Add(new ChartSeries(period == 0 ? "no merge" : $"merge every {period}", losses.Select((l, i) => ((double)i, l / losses[0])).ToArray()));
}

var table = new CsvTable(["step", .. curves.Select(c => c.Label.Replace(' ', '_'))]);
for (int i = 0; i <= steps; i++) table.Add([i, .. curves.Select(c => (object)c.Points[i].Y)]);
table.Save(Path.Combine(output, "lte-least-squares.csv"));
new LineChart { Title = "Least squares 32×32, full-rank target, LoRA rank 4", XLabel = "step", YLabel = "loss / initial loss", LogY = true }
    .Save(Path.Combine(output, "lte-least-squares.svg"), curves);
Console.WriteLine($"wrote {output}/lte-least-squares.csv, .png and .svg");

// One LTE head (N = 1) of rank 4 on a zero-initialised 32×32 weight; full-batch AdamW; loss after every step.
double[] Run(int period)
{
    var linear = new Linear(32, 32, bias: false);
    using (torch.no_grad()) linear.weight.zero_();
    var model = new Sequential(linear);
    var options = new LteOptions { Heads = 1, Rank = 4, Alpha = 4, MergeEvery = period, ReinitializeA = period > 0, ResetOptimizer = period > 0 };
    using var lte = new Lte(model, options);
    using var adamW = new AdamW(lte.ParameterGroups(new AdamWOptions { lr = 0.01, weight_decay = 0 }));
    var trainer = new LteTrainer(lte, adamW, (o, t) => F.mse_loss(o, t));
    var losses = new double[steps + 1];
    for (int i = 0; i < steps; i++) losses[i] = trainer.Step(x, y);
    lte.eval();
    using (Tensor last = F.mse_loss(lte.call(x), y)) losses[steps] = last.item<float>();
    return losses;
}
