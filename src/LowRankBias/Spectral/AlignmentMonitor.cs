using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Training;

namespace LowRankBias.Spectral;

/// <summary>
/// Scores a model in training against fixed reference representations of a fixed input set, as platonic-rep's
/// <c>platonic.Alignment.score</c> does against downloaded features: the reference models' neighbour lists are found
/// once, and each <see cref="Score"/> extracts the model's features, prepares them and keeps its best layer pair per
/// reference (<see cref="PlatonicAlignment.BestLayerPair"/>). <see cref="Attach"/> runs it as a
/// <see cref="Trainer"/> callback and logs the scores. The monitor owns the reference lists; it does not own the inputs.
/// </summary>
public sealed class AlignmentMonitor : IDisposable
{
    private readonly List<ModelNeighbours> _references;
    private readonly Tensor _inputs;
    private readonly List<(long Step, IReadOnlyDictionary<string, LayerPairScore> Scores)> _history = [];

    /// <summary>Monitors alignment with <paramref name="references"/> (taken over: disposed with the monitor), which
    /// must be neighbour lists of <paramref name="inputs"/> made with the same k.</summary>
    public AlignmentMonitor(IReadOnlyList<ModelNeighbours> references, Tensor inputs, PlatonicOptions? options = null, IReadOnlyList<FeatureTap>? taps = null)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(inputs);
        if (references.Count == 0) throw new ArgumentException("the list of reference models is empty", nameof(references));
        Options = options ?? new PlatonicOptions();
        Options.Validate();
        foreach (ModelNeighbours r in references)
            if (r.Samples != inputs.size(0) || r.K != Options.K)
                throw new ArgumentException($"reference {r.Name} has {r.Samples} samples × {r.K} neighbours; the inputs have {inputs.size(0)} samples and k is {Options.K}", nameof(references));
        if (references.Select(r => r.Name).Distinct().Count() != references.Count) throw new ArgumentException("reference names must be distinct", nameof(references));
        _references = references.ToList();
        _inputs = inputs;
        Taps = taps;
    }

    /// <summary>The settings (k, outlier quantile, batching).</summary>
    public PlatonicOptions Options { get; }

    /// <summary>The model's layers to read, or null for <see cref="PlatonicAlignment.DefaultTaps"/>.</summary>
    public IReadOnlyList<FeatureTap>? Taps { get; }

    /// <summary>Every score taken by <see cref="Attach"/>'s callback, with its step.</summary>
    public IReadOnlyList<(long Step, IReadOnlyDictionary<string, LayerPairScore> Scores)> History => _history;

    /// <summary>The best layer pair of <paramref name="model"/> (first) and each reference (second), by reference name.</summary>
    public IReadOnlyDictionary<string, LayerPairScore> Score(Module model)
    {
        using ModelNeighbours current = PlatonicAlignment.Neighbours("model", model, _inputs, Options, Taps);
        return _references.ToDictionary(r => r.Name, r => PlatonicAlignment.BestLayerPair(current, r));
    }

    /// <summary>Scores the trainer's model every <paramref name="every"/> steps, logs split "alignment" with one value
    /// per reference (its name; the layer pair as "&lt;name&gt;.layer" and "&lt;name&gt;.reference_layer") and keeps it in
    /// <see cref="History"/>.</summary>
    public void Attach(Trainer trainer, long every)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        trainer.AddCallback(every, t =>
        {
            IReadOnlyDictionary<string, LayerPairScore> scores = Score(t.Model);
            _history.Add((t.Step, scores));
            var values = new Dictionary<string, double>();
            foreach ((string name, LayerPairScore s) in scores)
            {
                values[name] = s.Score;
                values[$"{name}.layer"] = s.LayerA;
                values[$"{name}.reference_layer"] = s.LayerB;
            }
            t.Log("alignment", values);
        });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (ModelNeighbours r in _references) r.Dispose();
    }
}
