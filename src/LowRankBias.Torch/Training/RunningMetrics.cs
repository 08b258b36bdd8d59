using System.Diagnostics;

namespace LowRankBias.Torch.Training;

/// <summary>
/// Sums of loss and correct predictions over a stretch of batches, kept on the model's device so that a training
/// step never waits for the device; <see cref="Read"/> copies them back once per logged record. Sample counts are
/// known on the host. Throughput counts only the samples added in this process, over the time since the sums were
/// created, reset or restored.
/// </summary>
internal sealed class RunningMetrics(Device device) : IDisposable
{
    private readonly Tensor _lossSum = torch.zeros([], ScalarType.Float64, device).DetachFromDisposeScope();
    private readonly Tensor _correctSum = torch.zeros([], ScalarType.Float64, device).DetachFromDisposeScope();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _samples, _countedSamples, _processSamples;

    /// <summary>Length of a <see cref="State"/>.</summary>
    public const int StateLength = 4;

    /// <summary>Samples added since the last reset.</summary>
    public long Samples => _samples;

    /// <summary>Whether nothing was added since the last reset.</summary>
    public bool IsEmpty => _samples == 0;

    /// <summary>Adds one batch of <paramref name="samples"/> samples whose mean loss is <paramref name="result"/>.Loss.</summary>
    public void Add(LossResult result, long samples)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        _lossSum.add_(result.Loss.detach().to(ScalarType.Float64), samples);
        if (result.Correct is { } correct)
        {
            _correctSum.add_(correct.to(ScalarType.Float64));
            _countedSamples += samples;
        }
        _samples += samples;
        _processSamples += samples;
    }

    /// <summary>Mean loss per sample, accuracy (null when no batch counted correct predictions) and samples per
    /// second; reads the device once.</summary>
    public (double loss, double? accuracy, double samplesPerSecond) Read()
    {
        if (IsEmpty) throw new InvalidOperationException("no batch was added since the last reset");
        double[] sums = State();
        double seconds = _clock.Elapsed.TotalSeconds;
        return (sums[0] / _samples, _countedSamples > 0 ? sums[1] / _countedSamples : null,
            seconds > 0 ? _processSamples / seconds : double.NaN);
    }

    /// <summary>Starts a new stretch.</summary>
    public void Reset()
    {
        _lossSum.zero_();
        _correctSum.zero_();
        _samples = _countedSamples = _processSamples = 0;
        _clock.Restart();
    }

    /// <summary>The sums and counts, exactly, for a checkpoint: [loss sum, correct sum, samples, counted samples].</summary>
    public double[] State() =>
        [_lossSum.item<double>(), _correctSum.item<double>(), _samples, _countedSamples];

    /// <summary>Continues from a <see cref="State"/> (of <see cref="StateLength"/> values).</summary>
    public void Load(double[] state)
    {
        _lossSum.fill_(state[0]);
        _correctSum.fill_(state[1]);
        (_samples, _countedSamples, _processSamples) = ((long)state[2], (long)state[3], 0);
        _clock.Restart();
    }

    /// <summary>Frees the device sums.</summary>
    public void Dispose()
    {
        _lossSum.Dispose();
        _correctSum.Dispose();
    }
}
