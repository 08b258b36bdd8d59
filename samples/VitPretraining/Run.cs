using System.Diagnostics;
using LowRankBias.Lte;

namespace VitPretraining;

/// <summary>One evaluation point of a run: the x-axes the paper plots and what was measured there.</summary>
internal sealed record Point(string Method, long Step, long Samples, long SamplesPerDevice, double TrainLoss, double TestLoss,
    double TestAccuracy, double? HeadCosineSimilarity, double Seconds);

/// <summary>Trains one method for a number of cumulative batches, evaluating at evenly spaced steps.</summary>
internal static class Run
{
    public static IReadOnlyList<Point> Train(Method method, TensorDataset train, TensorDataset test, int batch, long steps, int evaluations, int seed,
        Action<Point> report, Action? stepped = null)
    {
        var loader = new DataLoader(train, batch_size: batch, shuffle: true, drop_last: true, seed: (ulong)seed);
        var points = new List<Point>();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        int lossCount = 0;
        // Evenly spaced evaluations, the last at the final step.
        var evaluateAt = Enumerable.Range(1, evaluations).Select(k => Math.Max(1, k * steps / evaluations)).ToHashSet();
        method.Evaluated.train();
        for (long step = 1; step <= steps; step++)
        {
            using (var scope = NewDisposeScope())
            {
                Tensor[] b = loader.Next();
                lossSum += method.Step(b[0], b[1]);
                lossCount++;
            }
            stepped?.Invoke();
            if (!evaluateAt.Contains(step)) continue;
            (double testLoss, double accuracy) = Evaluate(method, test);
            // Right after a merge every Bₙ is zero and the heads' similarity undefined (NaN): left out.
            double? similarity = method.Lte is { heads: > 1 } lte ? LteDiagnostics.Measure(lte).Average(d => d.MeanCosineSimilarity) : null;
            if (similarity is double s && !double.IsFinite(s)) similarity = null;
            var point = new Point(method.Name, step, step * batch, step * batch / method.Devices, lossSum / lossCount, testLoss, accuracy,
                similarity, clock.Elapsed.TotalSeconds);
            points.Add(point);
            report(point);
            lossSum = 0;
            lossCount = 0;
        }
        return points;
    }

    private static (double loss, double accuracy) Evaluate(Method method, TensorDataset test)
    {
        method.Evaluated.eval();
        try
        {
            using var noGrad = no_grad();
            double loss = 0, correct = 0;
            foreach (Tensor[] b in new DataLoader(test, batch_size: 1000))
            {
                using var scope = NewDisposeScope();
                Tensor logits = method.Evaluated.call(b[0]);
                loss += nn.functional.cross_entropy(logits, b[1], reduction: "sum").item<float>();
                correct += (logits.argmax(1) == b[1]).sum().item<long>();
            }
            return (loss / test.Count, correct / test.Count);
        }
        finally
        {
            method.Evaluated.train();
        }
    }
}
