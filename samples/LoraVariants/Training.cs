using System.Diagnostics;

namespace LoraVariants;

/// <summary>The one training loop of the sample: AdamW on cross-entropy over shuffled batches.</summary>
internal static class Training
{
    /// <summary>
    /// Trains the parameters of <paramref name="model"/> that require gradients for <paramref name="steps"/> steps;
    /// after each step in <paramref name="evaluateAt"/> calls <paramref name="evaluate"/>. Returns the mean seconds per
    /// step, evaluations excluded, and the first step too when there are more (it pays for JIT compilation and first allocations).
    /// </summary>
    public static double Run(Module model, Func<Tensor, Tensor> prepare, TensorDataset data, int batch, int steps, double lr, ulong seed,
        StepProgress progress, IReadOnlyCollection<int>? evaluateAt = null, Action<int>? evaluate = null)
    {
        var loader = new DataLoader(data, batch_size: batch, shuffle: true, drop_last: true, seed: seed);
        using var optimizer = new AdamW(model.parameters().Where(p => p.requires_grad), lr: lr, weight_decay: 0.0);
        var clock = new Stopwatch();
        model.train();
        for (int step = 1; step <= steps; step++)
        {
            if (step > 1 || steps == 1) clock.Start();
            using (NewDisposeScope())
            {
                Tensor[] b = loader.Next();
                Tensor loss = nn.functional.cross_entropy(model.call(prepare(b[0])), b[1]);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            clock.Stop();
            progress.Step();
            if (evaluateAt?.Contains(step) == true) evaluate?.Invoke(step);
        }
        return clock.Elapsed.TotalSeconds / Math.Max(1, steps - 1);
    }

    /// <summary>The model's logits [N, classes] on every sample of <paramref name="test"/>, in evaluation mode.</summary>
    public static Tensor Logits(Module model, Func<Tensor, Tensor> prepare, TensorDataset test)
    {
        bool training = model.training;
        model.eval();
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        using (var scope = NewDisposeScope())
        {
            foreach (Tensor[] b in new DataLoader(test, batch_size: 500)) parts.Add(model.call(prepare(b[0])));
            Tensor all = cat(parts.ToArray(), 0).MoveToOuterDisposeScope();
            if (training) model.train();
            return all;
        }
    }

    /// <summary>
    /// Accuracy of <paramref name="logits"/> against <paramref name="labels"/>; with <paramref name="first"/> and
    /// <paramref name="count"/>, over the samples of those classes only, the prediction being the argmax among those classes.
    /// </summary>
    public static double Accuracy(Tensor logits, Tensor labels, int first = 0, int? count = null)
    {
        using var scope = NewDisposeScope();
        int n = count ?? (int)logits.size(1);
        Tensor inSubset = (labels >= first) & (labels < first + n);
        Tensor correct = (logits.narrow(1, first, n).argmax(1) + first == labels) & inSubset;
        long total = inSubset.sum().item<long>();
        return total == 0 ? double.NaN : (double)correct.sum().item<long>() / total;
    }
}
