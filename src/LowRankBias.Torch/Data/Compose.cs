namespace LowRankBias.Torch.Data;

/// <summary>Applies transforms one after another (<c>transforms.Compose</c>).</summary>
public sealed class Compose(params IBatchTransform[] transforms) : IBatchTransform
{
    /// <inheritdoc />
    public Tensor Apply(Tensor batch)
    {
        Tensor current = batch.alias();
        foreach (IBatchTransform transform in transforms)
        {
            Tensor next = transform.Apply(current);
            current.Dispose();
            current = next;
        }
        return current;
    }
}
