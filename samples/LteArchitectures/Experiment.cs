namespace LteArchitectures;

/// <summary>
/// A dataset and the model family trained on it. The parameters without a low-rank form besides the output layer —
/// the Mixer's patch projection, the GPT's token and position embeddings, every LayerNorm — stay at their initial
/// values in both methods, so both train the same function class. (The results in docs/results.md were recorded this
/// way, before LTE could keep per-head replicas of such parameters; it now can, see LteNonLowRank.)
/// </summary>
internal abstract class Experiment : IDisposable
{
    private readonly Dataset _train;
    private readonly int _batch;
    private DataLoader _loader;

    protected Experiment(Dataset train, int batch)
    {
        _train = train;
        _batch = batch;
        _loader = NewLoader();
    }

    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract string EvalLossName { get; }
    /// <summary>The layer LTE leaves to averaged replicas.</summary>
    public abstract string OutputLayer { get; }

    /// <summary>A fresh model, seeded, with the parameters that neither method trains frozen.</summary>
    public abstract Module Build();
    public abstract Tensor Loss(Tensor output, Tensor target);
    /// <summary>(loss, accuracy) on held-out data.</summary>
    public abstract (double loss, double accuracy) Evaluate(Module model);

    public Tensor[] NextBatch() => _loader.Next();

    /// <summary>Restarts the data stream, so the next method sees the same batches.</summary>
    public void Rewind() => _loader = NewLoader();

    private DataLoader NewLoader() => new(_train, batch_size: _batch, shuffle: true, drop_last: true, seed: 1);

    protected static void Freeze(IEnumerable<Module> modules)
    {
        foreach (Module m in modules)
            foreach (Tensor p in m.parameters()) p.requires_grad_(false);
    }

    public static IEnumerable<Experiment> Create(string which, Preset preset, string? text)
    {
        if (which is "mixer" or "all") yield return new MixerExperiment(preset);
        if (which is "gpt" or "all") yield return new GptExperiment(preset, text);
    }

    public abstract void Dispose();
}

/// <summary>MLP-Mixer (patches of 4×4) classifying Fashion-MNIST (LTE paper appendix D.3).</summary>
internal sealed class MixerExperiment(Preset preset) : Experiment(Images(train: true, preset.TrainImages), preset.Batch)
{
    private readonly TensorDataset _test = Images(train: false, preset.EvalImages);

    public override string Name => "mixer";
    public override string Description => $"MLP-Mixer ({preset.Mixer.num_blocks} blocks, width {preset.Mixer.hidden_dim}) on {preset.TrainImages:N0} Fashion-MNIST images";
    public override string EvalLossName => "test cross-entropy";
    public override string OutputLayer => "head";

    public override Module Build()
    {
        manual_seed(0);
        var model = new MlpMixer(preset.Mixer with { image_size = 28, patch_size = 4, in_channels = 1, num_classes = 10 });
        Freeze(model.modules().Where(m => m is LayerNorm).Append(model.stem));
        return model;
    }

    public override Tensor Loss(Tensor output, Tensor target) => nn.functional.cross_entropy(output, target);

    public override (double loss, double accuracy) Evaluate(Module model)
    {
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor logits = cat([.. Enumerable.Range(0, (int)Math.Ceiling(_test.Count / 1000.0))
            .Select(i => model.call(_test.tensors[0].narrow(0, 1000L * i, Math.Min(1000, _test.Count - 1000L * i))))]);
        model.train();
        return (Loss(logits, _test.tensors[1]).item<float>(), (logits.argmax(1) == _test.tensors[1]).to(ScalarType.Float64).mean().item<double>());
    }

    private static TensorDataset Images(bool train, int count)
    {
        using TensorDataset all = FashionMnist.Load(train);
        return all.Take(count);
    }

    public override void Dispose() => _test.Dispose();
}

/// <summary>A character-level GPT on Shakespeare (LTE paper appendix D.4).</summary>
internal sealed class GptExperiment : Experiment
{
    private readonly Preset _preset;
    private readonly CharCorpus _corpus;
    private readonly Tensor[] _held;

    public GptExperiment(Preset preset, string? text) : this(preset, CharCorpus.Load(TextPath(text))) { }

    private GptExperiment(Preset preset, CharCorpus corpus) : base(corpus.Blocks((int)preset.Gpt.block_size), preset.Batch)
    {
        _preset = preset;
        _corpus = corpus;
        // A fixed set of held-out blocks, evenly spaced through the validation text.
        using TextBlockDataset validation = corpus.Blocks((int)preset.Gpt.block_size, training: false);
        using Tensor starts = linspace(0, validation.Count - 1, Math.Min(preset.EvalBlocks, validation.Count)).to(ScalarType.Int64);
        _held = validation.GetItems(starts);
    }

    public override string Name => "gpt";
    public override string Description => $"character GPT ({_preset.Gpt.n_layer} layers, width {_preset.Gpt.n_embd}, context {_preset.Gpt.block_size}) on Shakespeare ({_corpus.Train.numel():N0} training characters)";
    public override string EvalLossName => "validation cross-entropy per character";
    public override string OutputLayer => "lm_head";

    public override Module Build()
    {
        manual_seed(0);
        var model = new GPT(_preset.Gpt with { vocab_size = _corpus.Vocabulary.Count, tie_weights = false });
        Freeze(model.modules().Where(m => m is LayerNorm).Append(model.wte).Append(model.wpe));
        return model;
    }

    public override Tensor Loss(Tensor output, Tensor target) => nn.functional.cross_entropy(output.reshape(-1, output.size(-1)), target.reshape(-1));

    public override (double loss, double accuracy) Evaluate(Module model)
    {
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor logits = model.call(_held[0]);
        model.train();
        return (Loss(logits, _held[1]).item<float>(), (logits.argmax(-1) == _held[1]).to(ScalarType.Float64).mean().item<double>());
    }

    // The file given, or shared/data/tinyshakespeare.txt next to the repository (searched upward from here).
    private static string TextPath(string? text)
    {
        if (text is not null) return File.Exists(text) ? text : throw new FileNotFoundException($"--text {text}: no such file");
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", "tinyshakespeare.txt");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("no Shakespeare text: pass --text PATH (tinyshakespeare.txt), or keep it in shared/data/ beside the repository");
    }

    public override void Dispose()
    {
        foreach (Tensor t in _held) t.Dispose();
        _corpus.Dispose();
    }
}
