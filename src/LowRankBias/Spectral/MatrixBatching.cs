using LowRankBias.Torch;

namespace LowRankBias.Spectral;

// Runs one batched computation per group of equally shaped matrices (same device and size), so a model with many
// layers of few distinct shapes costs a handful of kernel launches instead of one per layer.
internal static class MatrixBatching
{
    /// <summary>
    /// Turns every weight into its matrices [P, m, n] (see <see cref="WeightMatrices.AsMatrixBatch"/>), converted to
    /// <paramref name="computeType"/> of its dtype; concatenates each (device, m, n) group, applies
    /// <paramref name="perGroup"/> ([B, m, n] → [B, k]) and returns, per weight, the k values of each of its P matrices.
    /// </summary>
    public static double[][][] Run(IReadOnlyList<(string name, Tensor weight)> weights, ConvolutionLayout layout,
        Func<ScalarType, ScalarType> computeType, Func<Tensor, Tensor> perGroup)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException("no weights were given", nameof(weights));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();

        var batches = new Tensor[weights.Count];
        for (int i = 0; i < weights.Count; i++)
        {
            (string name, Tensor weight) = weights[i];
            batches[i] = WeightMatrices.AsMatrixBatch(weight, layout, name).to(computeType(weight.dtype));
        }

        var result = new double[weights.Count][][];
        foreach (var group in Enumerable.Range(0, weights.Count).GroupBy(i => (batches[i].device, batches[i].size(1), batches[i].size(2))))
        {
            int[] members = group.ToArray();
            Tensor stacked = members.Length == 1 ? batches[members[0]] : torch.cat(members.Select(i => batches[i]).ToArray());
            Tensor rows = perGroup(stacked);
            int width = (int)rows.size(1);
            double[] values = rows.to(Device.CPU, ScalarType.Float64).ToArray<double>();
            int offset = 0;
            foreach (int i in members)
            {
                int count = (int)batches[i].size(0);
                result[i] = new double[count][];
                for (int p = 0; p < count; p++, offset += width) result[i][p] = values.AsSpan(offset, width).ToArray();
            }
        }
        return result;
    }
}
