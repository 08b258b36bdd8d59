namespace LowRankBias.Torch.Data;

/// <summary>
/// Every contiguous block of a token sequence as a sample: sample i is (tokens[i … i+T), tokens[i+1 … i+T+1)),
/// the inputs and their next-token targets, both int64 [T]. Shuffled by a <see cref="DataLoader"/> this gives
/// random contiguous blocks with an exactly resumable order.
/// </summary>
public sealed class TextBlockDataset : Dataset
{
    private readonly Tensor _tokens;
    private readonly Tensor _inputOffsets, _targetOffsets;

    /// <summary>The blocks of <paramref name="blockSize"/> tokens of a 1-D int64 sequence (which the dataset shares, not copies).</summary>
    public TextBlockDataset(Tensor tokens, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        if (tokens.dim() != 1 || tokens.dtype != ScalarType.Int64)
            throw new ArgumentException($"tokens must be a 1-D int64 tensor, not {tokens.dtype} [{string.Join(", ", tokens.shape)}]", nameof(tokens));
        if (tokens.size(0) <= blockSize)
            throw new ArgumentException($"{tokens.size(0)} tokens are too few for a block of {blockSize} and its target (needs {blockSize + 1})", nameof(tokens));
        BlockSize = blockSize;
        _tokens = tokens.detach().DetachFromDisposeScope();
        _inputOffsets = torch.arange(0, blockSize, device: tokens.device).DetachFromDisposeScope();
        _targetOffsets = torch.arange(1, blockSize + 1, device: tokens.device).DetachFromDisposeScope();
    }

    /// <summary>Tokens per block (the context length T).</summary>
    public int BlockSize { get; }

    /// <inheritdoc />
    public override long Count => _tokens.size(0) - BlockSize;

    /// <inheritdoc />
    public override Tensor[] GetItems(Tensor indices)
    {
        using var scope = torch.NewDisposeScope();
        Tensor starts = indices.to(_tokens.device).unsqueeze(1);
        Tensor x = _tokens.index(starts + _inputOffsets).MoveToOuterDisposeScope();   // [B, T]
        Tensor y = _tokens.index(starts + _targetOffsets).MoveToOuterDisposeScope();
        return [x, y];
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _tokens.Dispose();
        _inputOffsets.Dispose();
        _targetOffsets.Dispose();
    }
}
