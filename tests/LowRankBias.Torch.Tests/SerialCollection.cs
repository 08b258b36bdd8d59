namespace LowRankBias.Torch.Tests;

/// <summary>
/// The one serial collection of every test project (linked into each): tests that read or change process-wide state
/// (<see cref="Tensor.LiveCount"/>, the global generator, which creating layers draws from, native handle recycling,
/// the process's page faults) join it with <c>[Collection(SerialCollection.Name)]</c>, and xunit runs it alone, after
/// the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Serial";
}
