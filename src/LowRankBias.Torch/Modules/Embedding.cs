using System.Globalization;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Modules;

/// <summary>
/// A lookup table of <see cref="num_embeddings"/> vectors of size <see cref="embedding_dim"/> (PyTorch's
/// <c>nn.Embedding</c>): integer indices of any shape map to their rows, adding a last dimension. The weight is
/// initialised N(0, 1) like PyTorch; the row at <see cref="padding_idx"/>, if any, starts at zero and gets no gradient.
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>
    /// Creates the table. <paramref name="_weight"/> (PyTorch's argument of the same name) makes the layer register an
    /// existing [num_embeddings, embedding_dim] leaf tensor as its weight instead of drawing one, which is how a language
    /// model ties its token embedding to its output layer (the tensor is then shared, not copied, and not re-initialised).
    /// </summary>
    public Embedding(long num_embeddings, long embedding_dim, long? padding_idx = null, Tensor? _weight = null,
        Device? device = null, ScalarType? dtype = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(num_embeddings, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(embedding_dim, 1);
        if (padding_idx is long index)
        {
            if (index < -num_embeddings || index >= num_embeddings)
                throw new ArgumentOutOfRangeException(nameof(padding_idx), index, $"padding_idx must index one of the {num_embeddings} rows");
            padding_idx = index < 0 ? index + num_embeddings : index;
        }
        this.num_embeddings = num_embeddings;
        this.embedding_dim = embedding_dim;
        this.padding_idx = padding_idx;
        if (_weight is null)
        {
            weight = register_parameter("weight", torch.empty([num_embeddings, embedding_dim], dtype, device));
            reset_parameters();
        }
        else
        {
            if (!_weight.shape.AsSpan().SequenceEqual([num_embeddings, embedding_dim]))
                throw new ArgumentException($"_weight must have shape [{num_embeddings}, {embedding_dim}], got {InputChecks.Shape(_weight)}", nameof(_weight));
            weight = register_parameter("weight", _weight);
        }
    }

    /// <summary>Number of rows (the vocabulary size).</summary>
    public long num_embeddings { get; }

    /// <summary>Size of each vector.</summary>
    public long embedding_dim { get; }

    /// <summary>The row kept at zero and out of training, or null.</summary>
    public long? padding_idx { get; }

    /// <summary>The table, [num_embeddings, embedding_dim].</summary>
    public Tensor weight { get; }

    /// <summary>Re-draws the table from N(0, 1) and zeroes the padding row.</summary>
    public void reset_parameters()
    {
        torch.nn.init.normal_(weight);
        if (padding_idx is long index)
        {
            using var _ = torch.no_grad();
            using Tensor row = weight.select(0, index);
            row.zero_();
        }
    }

    /// <summary>The rows at the integer indices in <paramref name="input"/>: shape input.shape + [embedding_dim].</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"Embedding expects int64 or int32 indices, got {input.dtype}", nameof(input));
        return F.embedding(input, weight, padding_idx);
    }

    /// <inheritdoc />
    public override string extra_repr() => string.Create(CultureInfo.InvariantCulture,
        $"{num_embeddings}, {embedding_dim}{(padding_idx is long p ? $", padding_idx={p}" : "")}");
}
