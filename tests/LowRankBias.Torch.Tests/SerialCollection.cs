namespace LowRankBias.Torch.Tests;

/// <summary>
/// Tests that read process-wide state (<see cref="Tensor.LiveCount"/>, the global generator) join this collection with
/// <c>[Collection(SerialCollection.Name)]</c>: xunit runs it alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Serial";
}
