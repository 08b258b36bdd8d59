using LowRankBias.Torch.Data;
using MathNet.Numerics.LinearAlgebra;

namespace LowRankBias.Torch.Tests.Data;

public class SyntheticTaskTests
{
    private static Matrix<double> ToMatrix(Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64);
        return Matrix<double>.Build.DenseOfRowMajor((int)t.size(0), (int)t.size(1), d.ToArray<double>());
    }

    [Theory]
    [InlineData(32, 32, 1)]
    [InlineData(32, 32, 24)]
    [InlineData(20, 12, 12)]
    public void GroundTruthHasExactlyTheRequestedRank(int inFeatures, int outFeatures, int rank)
    {
        using var task = new LowRankRegression(inFeatures, outFeatures, rank, seed: 4);
        double[] sv = ToMatrix(task.Weight).Svd(computeVectors: false).S.ToArray();
        Assert.Equal(new long[] { outFeatures, inFeatures }, task.Weight.shape);
        Assert.All(sv.Take(rank), s => Assert.Equal(1.0, s, 1e-5));
        Assert.All(sv.Skip(rank), s => Assert.True(s < 1e-5, $"singular value {s} beyond the rank"));
    }

    [Fact]
    public void GivenSingularValuesAreThoseOfTheGroundTruth()
    {
        double[] s = [5, 2, 0.5];
        using var task = new LowRankRegression(10, 8, 3, seed: 1, singularValues: s);
        double[] sv = ToMatrix(task.Weight).Svd(computeVectors: false).S.ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(s[i], sv[i], 1e-5);
        Assert.True(sv[3] < 1e-5);
    }

    [Fact]
    public void TargetsAreTheLinearMapOfTheInputsPlusNoiseOfTheGivenSize()
    {
        using var task = new LowRankRegression(16, 6, 3, seed: 2);
        Matrix<double> w = ToMatrix(task.Weight);
        using (TensorDataset clean = task.Sample(200, seed: 0))
        {
            Matrix<double> x = ToMatrix(clean.tensors[0]), y = ToMatrix(clean.tensors[1]);
            Assert.True((y - x * w.Transpose()).FrobeniusNorm() < 1e-4 * y.FrobeniusNorm());
            double[] column = x.Column(0).ToArray(); // inputs are standard normal
            Assert.InRange(MathNet.Numerics.Statistics.Statistics.StandardDeviation(column), 0.8, 1.2);
        }
        using (TensorDataset noisy = task.Sample(4000, noiseStd: 0.3, seed: 1))
        {
            Matrix<double> residual = ToMatrix(noisy.tensors[1]) - ToMatrix(noisy.tensors[0]) * w.Transpose();
            double std = Math.Sqrt(residual.Enumerate().Select(v => v * v).Average());
            Assert.InRange(std, 0.29, 0.31);
        }
    }

    [Fact]
    public void SamplesRepeatBySeedAndDifferAcrossSeeds()
    {
        using var scope = NewDisposeScope();
        using var a = new LowRankRegression(8, 8, 2, seed: 7);
        using var b = new LowRankRegression(8, 8, 2, seed: 7);
        Assert.Equal(a.Weight.ToArray<float>(), b.Weight.ToArray<float>());
        using TensorDataset s0 = a.Sample(5, seed: 0), s0Again = b.Sample(5, seed: 0), s1 = a.Sample(5, seed: 1);
        Assert.Equal(s0.tensors[0].ToArray<float>(), s0Again.tensors[0].ToArray<float>());
        Assert.NotEqual(s0.tensors[0].ToArray<float>(), s1.tensors[0].ToArray<float>());
    }

    [Fact]
    public void ModularAdditionCoversEveryPairOnceWithItsSum()
    {
        const int p = 23;
        using var task = new ModularAddition(p, trainFraction: 0.3, seed: 3);
        Assert.Equal(p + 1, task.VocabularySize);
        Assert.Equal((long)Math.Round(0.3 * p * p), task.Train.Count);
        var pairs = new List<(long, long)>();
        foreach (TensorDataset split in new[] { task.Train, task.Test })
        {
            long[] tokens = split.tensors[0].ToArray<long>(), labels = split.tensors[1].ToArray<long>();
            for (int i = 0; i < labels.Length; i++)
            {
                long a = tokens[3 * i], b = tokens[3 * i + 1];
                Assert.Equal(p, tokens[3 * i + 2]); // the "=" token
                Assert.Equal((a + b) % p, labels[i]);
                pairs.Add((a, b));
            }
        }
        Assert.Equal(p * p, pairs.Distinct().Count());
        Assert.All(pairs, ab => Assert.True(ab.Item1 is >= 0 and < p && ab.Item2 is >= 0 and < p));
    }

    [Fact]
    public void ModularAdditionSplitIsRandomButRepeatsBySeed()
    {
        using var a = new ModularAddition(11, 0.5, seed: 1);
        using var b = new ModularAddition(11, 0.5, seed: 1);
        using var c = new ModularAddition(11, 0.5, seed: 2);
        long[] first = a.Train.tensors[0].ToArray<long>();
        Assert.Equal(first, b.Train.tensors[0].ToArray<long>());
        Assert.NotEqual(first, c.Train.tensors[0].ToArray<long>());
        long[] pairIds = Enumerable.Range(0, first.Length / 3).Select(i => first[3 * i] * 11 + first[3 * i + 1]).ToArray();
        Assert.NotEqual(pairIds.Order(), pairIds); // a random subset, not the first pairs in order
    }

    [Fact]
    public void OrthogonalTasksHaveMutuallyOrthogonalUnitInputsAndSineSignLabels()
    {
        const int tasks = 3, samples = 400, dim = 30, k = 10;
        using var set = new OrthogonalTasks(tasks, samples, dim, seed: 5);
        Matrix<double>[] x = set.Datasets.Select(d => ToMatrix(d.tensors[0])).ToArray();
        Matrix<double> w = ToMatrix(set.LabelWeights);
        for (int t = 0; t < tasks; t++)
        {
            Assert.Equal(new long[] { samples, dim }, set.Datasets[t].tensors[0].shape);
            Assert.All(x[t].EnumerateRows(), row => Assert.Equal(1.0, row.L2Norm(), 1e-5));
            double[] sv = x[t].Svd(computeVectors: false).S.ToArray(); // each task fills its own k-dimensional subspace
            Assert.True(sv[k - 1] > 0.1 && sv[k] < 1e-4, $"singular values {sv[k - 1]}, {sv[k]} around the subspace dimension");
            for (int s = t + 1; s < tasks; s++)
                Assert.True((x[t] * x[s].Transpose()).Enumerate().Max(Math.Abs) < 1e-5, $"tasks {t} and {s} are not orthogonal");

            float[] y = set.Datasets[t].tensors[1].ToArray<float>();
            Vector<double> f = x[t] * w.Row(t);
            for (int i = 0; i < samples; i++)
                if (Math.Abs(Math.Sin(f[i])) > 1e-4) Assert.Equal(Math.Sin(f[i]) >= 0 ? 1f : -1f, y[i]);
            Assert.InRange(y.Count(v => v > 0) / (double)samples, 0.35, 0.65);
        }
    }

    [Fact]
    public void RelabelledTaskKeepsItsInputsAndTakesTheOtherLabellingFunction()
    {
        const int samples = 500, dim = 20;
        using var set = new OrthogonalTasks(2, samples, dim, seed: 3);
        using TensorDataset relabelled = set.Relabelled(task: 0, labelling: 1);
        Assert.Equal(set.Datasets[0].tensors[0].ToArray<float>(), relabelled.tensors[0].ToArray<float>());
        Matrix<double> x = ToMatrix(relabelled.tensors[0]);
        Vector<double> f = x * ToMatrix(set.LabelWeights).Row(1);
        float[] y = relabelled.tensors[1].ToArray<float>(), own = set.Datasets[0].tensors[1].ToArray<float>();
        for (int i = 0; i < samples; i++)
            if (Math.Abs(Math.Sin(f[i])) > 1e-4) Assert.Equal(Math.Sin(f[i]) >= 0 ? 1f : -1f, y[i]);
        // w₁ restricted to task 0's subspace is independent of w₀: the two labellings agree about half the time.
        Assert.InRange(y.Where((v, i) => v == own[i]).Count() / (double)samples, 0.3, 0.7);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Relabelled(0, 2));
    }

    [Fact]
    public void BlockEmbeddingMakesTasksOrthogonalAndKeepsNorms()
    {
        using var scope = NewDisposeScope();
        Tensor features = randn([5, 4]);
        Tensor first = OrthogonalTasks.EmbedInBlock(features, 0, 2), second = OrthogonalTasks.EmbedInBlock(features, 1, 2);
        Assert.Equal(new long[] { 5, 8 }, first.shape);
        Assert.Equal(0f, first.matmul(second.t()).abs().max().item<float>());
        Assert.Equal(features.ToArray<float>(), first.narrow(1, 0, 4).contiguous().ToArray<float>());
        Assert.Equal(features.ToArray<float>(), second.narrow(1, 4, 4).contiguous().ToArray<float>());
    }

    [Fact]
    public void CompletelyRandomLabelsAreBalancedAndUnrelatedToTheOriginals()
    {
        const int n = 20_000, classes = 10;
        using var scope = NewDisposeScope();
        Tensor original = tensor(Enumerable.Range(0, n).Select(i => (long)(i % classes)).ToArray());
        long[] shuffled = RandomLabels.Corrupt(original, classes, fraction: 1.0, seed: 1).ToArray<long>();
        var counts = new double[classes];
        foreach (long y in shuffled) counts[y]++;
        double expected = (double)n / classes;
        double chi2 = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chi2 < MathNet.Numerics.Distributions.ChiSquared.InvCDF(classes - 1, 0.999), $"chi² = {chi2}");
        double agreement = shuffled.Where((y, i) => y == i % classes).Count() / (double)n;
        Assert.InRange(agreement, 0.08, 0.12); // chance level 1/classes
    }

    [Fact]
    public void PartialCorruptionChangesAtMostTheRequestedShare()
    {
        const int n = 10_000, classes = 4;
        using var scope = NewDisposeScope();
        Tensor original = tensor(Enumerable.Range(0, n).Select(i => (long)(i % classes)).ToArray());
        Assert.Equal(original.ToArray<long>(), RandomLabels.Corrupt(original, classes, fraction: 0).ToArray<long>());
        long[] corrupted = RandomLabels.Corrupt(original, classes, fraction: 0.4, seed: 2).ToArray<long>();
        int changed = corrupted.Where((y, i) => y != i % classes).Count();
        Assert.True(changed <= 4000);
        Assert.InRange(changed, 0.4 * 0.75 * n * 0.9, 0.4 * 0.75 * n * 1.1); // a replaced label differs with probability 3/4
    }
}
