// lowrankbias — command-line tools over checkpoints. `lowrankbias spectra model.safetensors` prints every weight
// matrix's stable rank, effective rank, power-law α and norms; `lowrankbias analyze model.safetensors` WeightWatcher's
// metrics; both write CSV, JSON and plots (out/<command>/<file>/).
using System.CommandLine;
using System.Globalization;
using LowRankBias.Samples;
using LowRankBias.Tool;
using LowRankBias.Tool.Analysis;

var file = new Argument<FileInfo>("file") { Description = "checkpoint: .safetensors (memory-mapped), a shard index model.safetensors.index.json, a torch.save file (.pt, .pth, .bin), an ONNX model (.onnx: its initializers), or a folder (model or PEFT adapter)" };
var output = new Option<DirectoryInfo?>("--out") { Description = "output folder (default: out/<command>/<file name>)" };
// A value that is no number is already a parse error (and has no value to read): only a number's range is checked here.
Option<int> Positive(string name, int defaultValue, string description)
{
    var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
    option.Validators.Add(r =>
    {
        if (r.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out int value) && value < 1) r.AddError($"{name}: {value} is not a positive number");
    });
    return option;
}
int Report(string command, Func<int> run)
{
    try
    {
        return run();
    }
    catch (Exception e) when (ProgramCommand.Expected(e))
    {
        Console.Error.WriteLine($"lowrankbias {command}: {e.Message}");
        return 1;
    }
}
string Folder(ParseResult parse, string command, FileInfo path) =>
    parse.GetValue(output)?.FullName ?? Path.Combine("out", command, Path.GetFileNameWithoutExtension(path.Name));

var minDimension = Positive("--min-dim", 2, "skip matrices with a side shorter than this");
var spectra = new Command("spectra", "per-layer stable rank, effective rank, power-law α and norms of a checkpoint's weight matrices") { file, output, minDimension };
spectra.SetAction(parse =>
{
    FileInfo path = parse.GetValue(file)!;
    return Report("spectra", () => Spectra.Run(path.FullName, Folder(parse, "spectra", path), parse.GetValue(minDimension)));
});

var minEvals = Positive("--min-evals", 10, "skip layers with fewer eigenvalues M·rf (WeightWatcher's min_evals)");
var maxEvals = Positive("--max-evals", 15000, "skip layers with more eigenvalues M·rf (WeightWatcher's max_evals)");
var randomize = new Option<bool>("--randomize") { Description = "also the ESD of the shuffled weights: rand_distance and correlation traps (rand_num_spikes)" };
var noPlots = new Option<bool>("--no-plots") { Description = "skip the per-layer ESD plots (esd/)" };
var baseCheckpoint = new Option<FileInfo?>("--base") { Description = "for a PEFT adapter folder: the base checkpoint, for ‖ΔW‖₂/‖W‖₂" };
var seed = new Option<int>("--seed") { Description = "seed of the shuffles of --randomize", DefaultValueFactory = _ => 0 };
var analyze = new Command("analyze", "WeightWatcher's per-layer metrics (alpha, alpha_weighted, log norms, stable rank, MP fit) and their summary")
    { file, output, minEvals, maxEvals, randomize, noPlots, seed, baseCheckpoint };
analyze.SetAction(parse =>
{
    FileInfo path = parse.GetValue(file)!;
    var options = new AnalyzeCommand.Options(parse.GetValue(minEvals), parse.GetValue(maxEvals), parse.GetValue(randomize), !parse.GetValue(noPlots), parse.GetValue(seed),
        parse.GetValue(baseCheckpoint)?.FullName);
    return Report("analyze", () => AnalyzeCommand.Run(path.FullName, Folder(parse, "analyze", path), options));
});

var before = new Argument<FileInfo>("before") { Description = "the checkpoint before (e.g. pre-trained)" };
var after = new Argument<FileInfo>("after") { Description = "the checkpoint after (e.g. fine-tuned), with the same weight matrices" };
var topK = Positive("--top-k", 10, "how many top singular vectors the overlap and the intruder search consider (PEFT's top_k)");
var threshold = new Option<double>("--threshold") { Description = "a new singular vector whose largest |cos| with the old ones is below this is an intruder (PEFT's threshold_epsilon)", DefaultValueFactory = _ => 0.5 };
threshold.Validators.Add(r =>
{
    if (r.Tokens is [var token] && double.TryParse(token.Value, CultureInfo.InvariantCulture, out double value) && !(value is > 0 and <= 1))
        r.AddError($"--threshold: {token.Value} does not lie in (0, 1]");
});
var compare = new Command("compare", "per-layer change between two checkpoints: ‖ΔW‖F/‖W‖F, top singular values, effective rank, top-k subspace overlap, intruder dimensions")
    { before, after, output, topK, threshold };
compare.SetAction(parse =>
{
    FileInfo b = parse.GetValue(before)!, a = parse.GetValue(after)!;
    string folder = parse.GetValue(output)?.FullName ?? Path.Combine("out", "compare", $"{Path.GetFileNameWithoutExtension(b.Name)}-{Path.GetFileNameWithoutExtension(a.Name)}");
    return Report("compare", () => CompareCommand.Run(b.FullName, a.FullName, folder, parse.GetValue(topK), parse.GetValue(threshold)));
});

var root = new RootCommand("lowrankbias: weight analysis of checkpoints") { spectra, analyze, compare };
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // All on one line: for a mistyped command the useful error ("Unrecognized command or argument") comes second.
    Console.Error.WriteLine($"lowrankbias: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return 1;
}
return parsed.Invoke();
