using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LowRankBias.Torch;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Spectral;

/// <summary>
/// Records the spectra of a model's weight matrices during training: call <see cref="Step"/> from any training loop
/// and every <see cref="SpectralMonitorOptions.Every"/> steps each Linear, Conv2d and Embedding weight — LoRA and
/// over-parameterised layers on their effective weight — gets the metrics of <see cref="SpectrumColumns.Recorded"/>
/// (effective and stable ranks, norms) and its top singular values (one batched <c>svdvals</c> per group of equal shapes), plus the alignment of
/// consecutive layers and each layer's agreement with the previous record (Yunis et al. eq. 3–5). Each record is
/// appended whole to <c>spectral.jsonl</c> and <c>spectral.csv</c> (<see cref="AtomicFile.Append"/>: a full disk leaves
/// no half record), so a run that dies keeps what it recorded;
/// <c>SpectralPlots</c> of the programs' layer (src/LowRankBias.Cli) draws the figures from them.
/// </summary>
public sealed class SpectralMonitor : IDisposable
{
    internal static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly Module _model;
    private readonly List<SpectralRecord> _records = [];
    private Dictionary<string, Tensor>? _previous;

    /// <summary>Monitors <paramref name="model"/>, appending to the files in <paramref name="directory"/> (created if needed).</summary>
    public SpectralMonitor(Module model, string directory, SpectralMonitorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        this.options = options ?? new SpectralMonitorOptions();
        this.options.Validate();
        using (var scope = torch.NewDisposeScope())
            if (Weights(model).Count == 0) throw new ArgumentException($"{model.GetType().Name} has no Linear, Conv2d or Embedding weight to monitor", nameof(model));
        _model = model;
        Directory.CreateDirectory(directory);
        JsonlPath = Path.Combine(directory, "spectral.jsonl");
        CsvPath = Path.Combine(directory, "spectral.csv");
        if (!File.Exists(CsvPath) || new FileInfo(CsvPath).Length == 0)
            AtomicFile.Append(CsvPath, $"step,layer,shape,{string.Join(",", SpectrumColumns.Recorded.Select(c => c.Name))}\n");
    }

    /// <summary>What is recorded, and how often.</summary>
    public SpectralMonitorOptions options { get; }

    /// <summary>The JSON-lines file: one <see cref="SpectralRecord"/> per line.</summary>
    public string JsonlPath { get; }

    /// <summary>The CSV file: one row per layer and record.</summary>
    public string CsvPath { get; }

    /// <summary>The records made by this monitor so far.</summary>
    public IReadOnlyList<SpectralRecord> Records => _records;

    /// <summary>Records if <paramref name="step"/> is a multiple of <see cref="SpectralMonitorOptions.Every"/>; returns whether it did.</summary>
    public bool Step(long step)
    {
        if (step % options.Every != 0) return false;
        Record(step);
        return true;
    }

    /// <summary>Records now, whatever the step, and returns the record.</summary>
    public SpectralRecord Record(long step)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        IReadOnlyList<(string name, Tensor weight)> weights = Weights(_model);
        IReadOnlyList<MatrixSpectrum> spectra = SpectralMetrics.Analyze(weights, options.Spectral);
        LayerSpectrumRecord[] layers = spectra.Select((s, i) => LayerSpectrumRecord.Of(weights[i].name, s, options.TopSingularValues)).ToArray();
        var record = new SpectralRecord(step, layers, options.Alignment ? Alignment(weights) : [], options.Agreement ? Agreement(weights) : []);
        Write(record);
        _records.Add(record);
        return record;
    }

    /// <summary>Reads the records of a <c>spectral.jsonl</c> file.</summary>
    public static IReadOnlyList<SpectralRecord> Read(string jsonlPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(jsonlPath);
        return File.ReadLines(jsonlPath).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<SpectralRecord>(l, Json) ?? throw new InvalidDataException($"{jsonlPath}: empty record"))
            .ToList();
    }

    /// <summary>
    /// The matrices the monitor measures, by module path: the effective weight of every <see cref="IEffectiveWeight"/>
    /// layer (a LoRA layer's weight with its active, unmerged adapters folded in as merging would; an expanded layer's
    /// product of factors), any other Linear, Conv2d or Embedding weight, each as out × in (an embedding's table
    /// transposed to [d, vocabulary]); owned by the current dispose scope.
    /// </summary>
    public static IReadOnlyList<(string name, Tensor weight)> Weights(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<(string, Tensor)>();
        string? inside = null; // a layer with an effective weight, whose own children are not measured separately
        foreach ((string name, Module module) in model.named_modules())
        {
            if (inside is not null && (inside.Length == 0 || name.StartsWith(inside + ".", StringComparison.Ordinal))) continue;
            inside = null;
            // Every matrix as out × in: an embedding's table [vocabulary, d] maps one-hot tokens to d, so it is transposed,
            // which lets it chain into the layer that reads its output (Yunis et al.'s embedding → attention alignment).
            Tensor? weight = module switch
            {
                IEffectiveWeight { EffectiveWeightIsTable: true } table => table.EffectiveWeight().t(),
                IEffectiveWeight layer => layer.EffectiveWeight(),
                Linear linear => linear.weight.detach(),
                Conv2d conv => conv.weight.detach(),
                Embedding embedding => embedding.weight.detach().t(),
                _ => null,
            };
            if (weight is null) continue;
            if (module is IEffectiveWeight) inside = name;
            result.Add((name, weight));
        }
        return result;
    }

    // Consecutive matrices whose shapes chain: Wᵢ₊₁ (a convolution: its centre tap) takes Wᵢ's output.
    private DiagonalRecord[] Alignment(IReadOnlyList<(string name, Tensor weight)> weights)
    {
        var pairs = new List<DiagonalRecord>();
        for (int i = 0; i + 1 < weights.Count; i++)
        {
            Tensor first = WeightMatrices.AsMatrix(weights[i].weight, weights[i].name);
            Tensor second = weights[i + 1].weight.dim() == 4 ? WeightMatrices.CentreSlice(weights[i + 1].weight, weights[i + 1].name) : weights[i + 1].weight;
            if (second.dim() != 2 || second.size(1) != first.size(0)) continue;
            AlignmentResult a = LayerAlignment.Consecutive(first, second, options.ScoreCount, options.DiagonalLength);
            pairs.Add(new DiagonalRecord($"{weights[i].name} → {weights[i + 1].name}", a.Score, a.Diagonal));
        }
        return [.. pairs];
    }

    private DiagonalRecord[] Agreement(IReadOnlyList<(string name, Tensor weight)> weights)
    {
        var records = new List<DiagonalRecord>();
        var current = new Dictionary<string, Tensor>();
        foreach ((string name, Tensor weight) in weights)
        {
            Tensor matrix = WeightMatrices.AsMatrix(weight, name);
            if (_previous?.GetValueOrDefault(name) is { } before && before.shape.SequenceEqual(matrix.shape))
            {
                AlignmentResult a = LayerAlignment.SingularVectorAgreement(before, matrix, options.ScoreCount, options.DiagonalLength);
                records.Add(new DiagonalRecord(name, a.Score, a.Diagonal));
            }
            current[name] = matrix.clone().DetachFromDisposeScope();
        }
        DisposePrevious();
        _previous = current;
        return [.. records];
    }

    private void Write(SpectralRecord record)
    {
        AtomicFile.Append(JsonlPath, JsonSerializer.Serialize(record, Json) + "\n");
        AtomicFile.Append(CsvPath, string.Concat(record.Layers.Select(l => string.Create(CultureInfo.InvariantCulture,
            $"{record.Step},{l.Name},{string.Join("x", l.Shape)},{string.Join(",", SpectrumColumns.Recorded.Select(c => l[c].ToString("R", CultureInfo.InvariantCulture)))}\n"))));
    }

    private void DisposePrevious()
    {
        if (_previous is null) return;
        foreach (Tensor t in _previous.Values) t.Dispose();
        _previous = null;
    }

    /// <summary>Frees the kept copies of the weights.</summary>
    public void Dispose() => DisposePrevious();
}
