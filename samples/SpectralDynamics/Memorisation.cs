/// <summary>
/// Yunis et al. figure 8 (appendix A.7): the same MLP fits a subset of Fashion-MNIST with its true labels and with
/// random labels, SGD with momentum 0.9 at a constant learning rate (a schedule would conflate the two), until every
/// training image is classified correctly; the mean normalised effective rank of the weight matrices is recorded along
/// the way. Memorising noise needs more of each matrix's spectrum than learning the true labels does.
/// </summary>
internal static class Memorisation
{
    /// <param name="seed">Seeds the initialisation (seed), the data order (seed + 1) and the random labels (seed + 3); 0 gives the recorded runs.</param>
    public static void Run(int images, long width, int maxSteps, int every, int seed, string output)
    {
        const int Batch = 128;
        const double Lr = 0.01;
        Directory.CreateDirectory(output);
        Console.WriteLine($"memorisation: MLP 784-{width}-{width}-{width}-10 on {images:N0} Fashion-MNIST images, true vs random labels, SGD lr {Lr} " +
                          $"(constant) momentum 0.9, batch {Batch}, until 100% training accuracy (at most {maxSteps:N0} steps), seed {seed}; output {Path.GetFullPath(output)}");
        using TensorDataset all = FashionMnist.Load(train: true), part = all.Take(images);
        using var scope = NewDisposeScope();
        var trueLabels = new TensorDataset(part.tensors[0].reshape(-1, 784), part.tensors[1]);
        var randomLabels = new TensorDataset(trueLabels.tensors[0], RandomLabels.Corrupt(trueLabels.tensors[1], classes: 10, seed: 3 + (ulong)seed));
        var rows = new CsvTable("labels", "step", "epoch", "train_accuracy", "mean_normalized_effective_rank");
        var ranks = new List<ChartSeries>();
        var accuracies = new List<ChartSeries>();
        var summary = new SummaryTable("labels", "steps to 100% train accuracy", "epochs", "mean exp(H)/R at start", "at 100%", "minimum on the way");
        foreach ((string name, TensorDataset data) in new[] { ("true labels", trueLabels), ("random labels", randomLabels) })
        {
            manual_seed((ulong)seed);
            using var model = new MLP(new MLP.Config { widths = [784, width, width, width, 10] });
            using var optimizer = new SGD(model.parameters(), lr: Lr, momentum: 0.9);
            var loader = new DataLoader(data, batch_size: Batch, shuffle: true, seed: 1 + (ulong)seed);
            var rank = new List<(double, double)>();
            var accuracy = new List<(double, double)>();
            long? memorised = null;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int step = 0; ; step++)
            {
                if (step % every == 0 || step == maxSteps)
                {
                    double mean = SpectralMetrics.Analyze(SpectralMonitor.Weights(model)).Average(s => s.NormalizedEffectiveRank);
                    double trainAccuracy = Accuracy(model, data);
                    rank.Add((step, mean));
                    accuracy.Add((step, 100 * trainAccuracy));
                    double epoch = (double)step * Batch / images;
                    rows.Add(name, step, CsvTable.Fixed(epoch, 2), trainAccuracy, mean);
                    if (step % (10 * every) == 0 || trainAccuracy == 1)
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{name}: step {step,6:N0}/{maxSteps:N0} (epoch {epoch:F0})  train accuracy {trainAccuracy:P2}  mean exp(H)/R {mean:F3}  ({clock.Elapsed.TotalSeconds:F0} s)"));
                    if (trainAccuracy == 1) memorised = step;
                    if (trainAccuracy == 1 || step >= maxSteps) break;
                }
                using var stepScope = NewDisposeScope();
                Tensor[] batch = loader.Next();
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.call(batch[0]), batch[1]).backward();
                optimizer.step();
            }
            ranks.Add(new ChartSeries(name, rank));
            accuracies.Add(new ChartSeries(name, accuracy));
            summary.AddRow(name, memorised is { } m ? m.ToString("N0", CultureInfo.InvariantCulture) : $"not within {maxSteps:N0}",
                memorised is { } e ? ((double)e * Batch / images).ToString("F0", CultureInfo.InvariantCulture) : "—",
                F3(rank[0].Item2), F3(rank[^1].Item2), F3(rank.Min(r => r.Item2)));
        }
        rows.Save(Path.Combine(output, "memorisation.csv"));
        new LineChart
        {
            // On the score's whole range: the runs end a few hundredths apart, one seed each.
            Title = $"Mean exp(H)/R while memorising {images:N0} images (to 100% train accuracy, seed {seed})", XLabel = "step", YLabel = "exp(H)/R", YRange = (0, 1),
        }.Save(Path.Combine(output, "memorisation-rank.svg"), ranks);
        new LineChart { Title = $"Training accuracy on {images:N0} images", XLabel = "step", YLabel = "train accuracy (%)" }
            .Save(Path.Combine(output, "memorisation-accuracy.svg"), accuracies);
        summary.Write(Path.Combine(output, "memorisation.md"));
        Console.WriteLine($"wrote memorisation.csv, memorisation.md, memorisation-rank.svg, memorisation-accuracy.svg to {Path.GetFullPath(output)}");
    }

    private static double Accuracy(Module model, TensorDataset data)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return (model.call(data.tensors[0]).argmax(1) == data.tensors[1]).to(ScalarType.Float64).mean().item<double>();
    }

    private static string F3(double x) => x.ToString("F3", CultureInfo.InvariantCulture);
}
