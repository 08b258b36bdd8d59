namespace LowRankBias.Tests.Overparam;

/// <summary>Tests that draw from libtorch's global generator (creating layers does) run alone: seeded draws stay
/// reproducible, and tests elsewhere that check the generator is left alone are not disturbed.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OverparamSerial
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Overparam serial";
}
