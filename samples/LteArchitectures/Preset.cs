namespace LteArchitectures;

/// <summary>Budget and models of a comparison; LTE follows the paper's rule (α = 4096, 0.1× the full-rank learning rate).</summary>
internal sealed record Preset
{
    public required string Name { get; init; }
    public required MlpMixer.Config Mixer { get; init; }
    public required GPT.Config Gpt { get; init; }
    public int TrainImages { get; init; } = 20_000;
    public int EvalImages { get; init; } = 5_000;
    /// <summary>Held-out text blocks scored at each evaluation.</summary>
    public int EvalBlocks { get; init; } = 512;
    public int Batch { get; init; } = 128;
    /// <summary>Full-rank optimizer steps; LTE gets <see cref="LteStepFactor"/> times as many (the paper allows 2×).</summary>
    public required int Steps { get; init; }
    public int LteStepFactor { get; init; } = 2;
    public required int EvaluateEvery { get; init; }
    public double FullRankLr { get; init; } = 1e-3;
    public int Heads { get; init; } = 4;
    public int Rank { get; init; } = 16;
    public double Alpha { get; init; } = 4096;
    public int MergeEvery { get; init; } = 10;

    public static Preset Parse(string name) => name switch
    {
        // Seconds, for CI: proves the program runs end to end and writes its outputs.
        "tiny" => new()
        {
            Name = name, TrainImages = 512, EvalImages = 256, EvalBlocks = 64, Batch = 32, Steps = 6, EvaluateEvery = 3, Heads = 2, Rank = 4, MergeEvery = 2,
            Mixer = new MlpMixer.Config { num_blocks = 1, hidden_dim = 32, tokens_mlp_dim = 16, channels_mlp_dim = 64 },
            Gpt = new GPT.Config { n_layer = 1, n_head = 2, n_embd = 32, mlp_dim = 64, block_size = 16 },
        },
        // About 25 minutes on a 2-core CPU for both: a 4-block Mixer of width 128 and a 4-layer GPT of width 128 on 64-character blocks.
        "quick" => new()
        {
            Name = name, Steps = 300, EvaluateEvery = 50,
            Mixer = new MlpMixer.Config { num_blocks = 4, hidden_dim = 128, tokens_mlp_dim = 64, channels_mlp_dim = 512 },
            Gpt = new GPT.Config { n_layer = 4, n_head = 4, n_embd = 128, mlp_dim = 512, block_size = 64 },
        },
        // The paper's models for a GPU: Mixer-T (Table 3) and the 6-layer character GPT (Table 4), N = 32 heads of rank 16.
        "paper" => new()
        {
            Name = name, TrainImages = 60_000, EvalImages = 10_000, EvalBlocks = 4_096, Batch = 512, Steps = 5_000, EvaluateEvery = 250,
            Heads = 32, Rank = 16, Mixer = MlpMixer.Config.Mixer_T, Gpt = GPT.Config.NanoGPT,
        },
        _ => throw new ArgumentException($"unknown preset '{name}': use tiny, quick or paper"),
    };
}
