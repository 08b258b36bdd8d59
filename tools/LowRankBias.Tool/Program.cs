// lowrankbias — command-line tools over checkpoints. `lowrankbias spectra model.safetensors` prints every weight
// matrix's stable rank, effective rank, power-law α and norms; `lowrankbias analyze model.safetensors` WeightWatcher's
// metrics; both write CSV, JSON and plots (out/<command>/<file>/). The command line is the samples' ProgramCommand.
using System.CommandLine;
using System.Globalization;
using LowRankBias.Cli;
using LowRankBias.Tool;
using LowRankBias.Tool.Analysis;

const string FileHelp = "checkpoint: .safetensors (memory-mapped), a shard index model.safetensors.index.json, a torch.save file (.pt, .pth, .bin), an ONNX model (.onnx: its initializers), or a folder (model or PEFT adapter)";
var cli = new ProgramCommand("lowrankbias", "lowrankbias: weight analysis of checkpoints");
static string Stem(FileInfo file) => Path.GetFileNameWithoutExtension(file.Name);

var spectra = cli.Subcommand("spectra", "per-layer stable rank, effective rank, power-law α and norms of a checkpoint's weight matrices");
var spectraFile = spectra.Required<FileInfo>("file", FileHelp);
var minDimension = spectra.Positive("--min-dim", 2, "skip matrices with a side shorter than this");
spectra.SetAction(parse =>
{
    FileInfo path = parse.GetValue(spectraFile)!;
    return Spectra.Run(path.FullName, spectra.OutputPath(parse, Stem(path)), parse.GetValue(minDimension));
});

var analyze = cli.Subcommand("analyze", "WeightWatcher's per-layer metrics (alpha, alpha_weighted, log norms, stable rank, MP fit) and their summary");
var analyzeFile = analyze.Required<FileInfo>("file", FileHelp);
var minEvals = analyze.Positive("--min-evals", 10, "skip layers with fewer eigenvalues M·rf (WeightWatcher's min_evals)");
var maxEvals = analyze.Positive("--max-evals", 15000, "skip layers with more eigenvalues M·rf (WeightWatcher's max_evals)");
var randomize = analyze.Flag("--randomize", "also the ESD of the shuffled weights: rand_distance and correlation traps (rand_num_spikes)");
var noPlots = analyze.Flag("--no-plots", "skip the per-layer ESD plots (esd/)");
var seed = analyze.Add("--seed", 0, "seed of the shuffles of --randomize");
var baseCheckpoint = analyze.Optional<FileInfo>("--base", "for a PEFT adapter folder: the base checkpoint, for ‖ΔW‖₂/‖W‖₂", "FILE");
analyze.SetAction(parse =>
{
    FileInfo path = parse.GetValue(analyzeFile)!;
    var options = new AnalyzeCommand.Options(parse.GetValue(minEvals), parse.GetValue(maxEvals), parse.GetValue(randomize), !parse.GetValue(noPlots), parse.GetValue(seed),
        parse.GetValue(baseCheckpoint)?.FullName);
    return AnalyzeCommand.Run(path.FullName, analyze.OutputPath(parse, Stem(path)), options);
});

var compare = cli.Subcommand("compare", "per-layer change between two checkpoints: ‖ΔW‖F/‖W‖F, top singular values, effective rank, top-k subspace overlap, intruder dimensions");
var before = compare.Required<FileInfo>("before", "the checkpoint before (e.g. pre-trained)");
var after = compare.Required<FileInfo>("after", "the checkpoint after (e.g. fine-tuned), with the same weight matrices");
var topK = compare.Positive("--top-k", 10, "how many top singular vectors the overlap and the intruder search consider (PEFT's top_k)");
var threshold = compare.Add("--threshold", 0.5, "a new singular vector whose largest |cos| with the old ones is below this is an intruder (PEFT's threshold_epsilon)");
threshold.Validators.Add(r =>
{
    if (r.Tokens is [var token] && double.TryParse(token.Value, CultureInfo.InvariantCulture, out double value) && !(value is > 0 and <= 1))
        r.AddError($"--threshold: {token.Value} does not lie in (0, 1]");
});
compare.SetAction(parse =>
{
    FileInfo b = parse.GetValue(before)!, a = parse.GetValue(after)!;
    return CompareCommand.Run(b.FullName, a.FullName, compare.OutputPath(parse, $"{Stem(b)}-{Stem(a)}"), parse.GetValue(topK), parse.GetValue(threshold));
});

return cli.Invoke(args);
